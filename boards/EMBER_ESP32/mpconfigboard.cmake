# No BLE (not used by an HTTP server) and size optimisation, so the app fits a 1.5 MiB OTA slot.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)
include(${MICROPY_BOARD_DIR}/../ember_board.cmake)
