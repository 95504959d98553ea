#define MICROPY_HW_BOARD_NAME               "ember ESP32-S3 (8MiB, OTA)"
#define MICROPY_HW_MCU_NAME                 "ESP32S3"

// Modules with a USB-UART bridge keep the REPL on UART0 as well as native USB.
#define MICROPY_HW_ENABLE_UART_REPL         (1)
// <hostname>.local answers once the station has an IP (the device runtime sets the hostname
// before it connects): MicroPython's mDNS responder, on by default; kept on deliberately.
#define MICROPY_HW_ENABLE_MDNS_RESPONDER    (1)
