#define MICROPY_HW_BOARD_NAME               "ember ESP32 (4MiB, OTA)"
#define MICROPY_HW_MCU_NAME                 "ESP32"
