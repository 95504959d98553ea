# Host build (used as VARIANT_DIR): the standard unix variant with ember's manifest. This is the
# one place the host build's options are written (`./build.sh unix`, `./build.sh EMBER_UNIX`,
# bench/run.py and the tests all build this variant).
FROZEN_MANIFEST ?= $(VARIANT_DIR)/../../manifest.py

# No berkeley-db or libffi (their submodules are not needed); axTLS instead of mbedTLS, for
# hashlib.sha1 (a WebSocket handshake needs it) from a submodule the source archive has.
MICROPY_PY_BTREE = 0
MICROPY_PY_FFI = 0
MICROPY_SSL_AXTLS = 1
MICROPY_SSL_MBEDTLS = 0
