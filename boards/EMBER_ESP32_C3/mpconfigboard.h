#define MICROPY_HW_BOARD_NAME               "ember ESP32-C3 (4MiB)"
#define MICROPY_HW_MCU_NAME                 "ESP32C3"

// Modules with a USB-UART bridge keep the REPL on UART0 as well as USB serial/JTAG.
#define MICROPY_HW_ENABLE_UART_REPL         (1)
