#define MICROPY_HW_BOARD_NAME               "ember ESP32 (4MiB, OTA)"
#define MICROPY_HW_MCU_NAME                 "ESP32"
// <hostname>.local answers once the station has an IP (the device runtime sets the hostname
// before it connects): MicroPython's mDNS responder, on by default; kept on deliberately.
#define MICROPY_HW_ENABLE_MDNS_RESPONDER    (1)
