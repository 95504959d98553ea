# 2 MiB+ modules: ESP8266_GENERIC's default variant, trimmed (no FAT, btree or ESP-NOW) to fit.
LD_FILES = boards/esp8266_2MiB.ld

MICROPY_PY_ESPNOW ?= 0
MICROPY_PY_BTREE ?= 0
MICROPY_VFS_FAT ?= 0
MICROPY_VFS_LFS2 ?= 1

FROZEN_MANIFEST ?= $(BOARD_DIR)/../../manifest.py

CFLAGS += -DMICROPY_ESP8266_2M
