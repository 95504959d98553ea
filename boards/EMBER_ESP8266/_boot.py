# ruff: noqa: E402 - gc.threshold must run before the imports, as in the stock _boot.py
# ESP8266 boot: mount the filesystem as the stock _boot.py does, then switch the soft AP off.
# The SDK starts an open "ESP_xxxxxx" AP from blank flash, and MicroPython's inisetup only secures
# it with a published key on first boot; a factory-provisioned filesystem skips inisetup entirely.
import gc

gc.threshold((gc.mem_free() + gc.mem_alloc()) // 4)
import vfs
import network
from flashbdev import bdev

if bdev:
    try:
        vfs.mount(bdev, "/")
    except:  # noqa: E722 - as the stock _boot.py: any failure means "not a filesystem yet"
        import inisetup

        inisetup.setup()

network.WLAN(network.WLAN.IF_AP).active(False)
del network, vfs, bdev
gc.collect()
