# Host build (used as VARIANT_DIR): the standard unix variant with ember's manifest.
FROZEN_MANIFEST ?= $(VARIANT_DIR)/../../manifest.py
