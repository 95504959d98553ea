# ESP32-S3 with QIO flash and optional octal/quad SPIRAM, as ESP32_GENERIC_S3.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.spiram_sx
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)
include(${MICROPY_BOARD_DIR}/../ember_board.cmake)
