# SIMULATION (used as VARIANT_DIR): the EMBER_UNIX options, with this board's manifest, which adds
# the simulated hardware (sim/) to what every ember board freezes.
FROZEN_MANIFEST ?= $(VARIANT_DIR)/manifest.py
include $(VARIANT_DIR)/../EMBER_UNIX/mpconfigvariant.mk

# A 32-bit build, as the chips it stands for are: objects, pointers and GC blocks the size they
# have on an ESP32 or ESP8266, so heap figures (the -X heapsize budgets) compare with a device's.
# Needs the 32-bit C library (Debian: gcc-multilib).
MICROPY_FORCE_32BIT = 1
