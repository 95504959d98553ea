#define MICROPY_HW_BOARD_NAME               "ember ESP32-S3 (8MiB, OTA)"
#define MICROPY_HW_MCU_NAME                 "ESP32S3"

// Modules with a USB-UART bridge keep the REPL on UART0 as well as native USB.
#define MICROPY_HW_ENABLE_UART_REPL         (1)
