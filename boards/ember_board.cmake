# Shared by the ember ESP32-family boards: chip, flash size and partition table come from the
# board's ember-board.json (the one place they are written down), turned into IDF settings here.
file(READ ${MICROPY_BOARD_DIR}/ember-board.json EMBER_BOARD_JSON)
string(JSON IDF_TARGET GET ${EMBER_BOARD_JSON} chip)
string(JSON EMBER_FLASH_SIZE GET ${EMBER_BOARD_JSON} flash_size)
string(JSON EMBER_PARTITIONS GET ${EMBER_BOARD_JSON} partition_table)

# The IDF resolves a relative partition table against ports/esp32, so write an absolute path.
file(WRITE ${CMAKE_BINARY_DIR}/sdkconfig.ember
    "CONFIG_ESPTOOLPY_FLASHSIZE_4MB=\n"
    "CONFIG_ESPTOOLPY_FLASHSIZE_${EMBER_FLASH_SIZE}=y\n"
    "CONFIG_PARTITION_TABLE_CUSTOM=y\n"
    "CONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"${MICROPY_BOARD_DIR}/${EMBER_PARTITIONS}\"\n")
list(APPEND SDKCONFIG_DEFAULTS ${CMAKE_BINARY_DIR}/sdkconfig.ember)

# ember's manifest (ember + the application), unless FROZEN_MANIFEST is given on the command line.
set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/../../manifest.py)
