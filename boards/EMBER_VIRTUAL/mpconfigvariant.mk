# SIMULATION (used as VARIANT_DIR): the EMBER_UNIX options, with this board's manifest, which adds
# the simulated hardware (sim/) to what every ember board freezes.
FROZEN_MANIFEST ?= $(VARIANT_DIR)/manifest.py
include $(VARIANT_DIR)/../EMBER_UNIX/mpconfigvariant.mk
