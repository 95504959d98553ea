# ESP32-C3 (RISC-V, USB serial/JTAG console), as ESP32_GENERIC_C3 without BLE.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.riscv
    boards/ESP32_GENERIC_C3/sdkconfig.c3usb
)
include(${MICROPY_BOARD_DIR}/../ember_board.cmake)
