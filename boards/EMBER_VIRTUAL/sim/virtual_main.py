"""SIMULATION: the boot of an ESP32 running ember, on the unix port (the EMBER_VIRTUAL board).

What the ESP32 port's _boot.py and main.py do, with the flash's vfs partition replaced by a file:
mount $EMBER_VIRTUAL_IMAGE (LittleFS2, blocks of $EMBER_VIRTUAL_BLOCK_SIZE) at "/", formatting
it first when it holds no filesystem (a blank flash), run /boot.py if there is one, then the
device runtime with the board parameters in $EMBER_VIRTUAL_RUNTIME (JSON). What the runtime
writes lands in the image file at once, as it would in flash.

The launcher (ember_host.virtual) runs it as `micropython -m virtual_main` with sys.path
['', '.frozen', '/lib'], an ESP32's.
"""

import json
import os
import vfs

# Imported before the mount hides the host's paths: they open their host files now (RTC
# memory, the air, the OTA flash when the launcher gives one).
import machine  # noqa: F401
import network  # noqa: F401

if os.getenv("EMBER_VIRTUAL_FLASH"):
    import esp32  # noqa: F401


class FileFlash:
    """A block device over the image file: what esp32.Partition gives _boot.py over flash."""

    def __init__(self, path, block_size):
        self.file = open(path, "r+b")
        self.block_size = block_size
        self.blocks = self.file.seek(0, 2) // block_size

    def readblocks(self, n, buf, off=0):
        self.file.seek(n * self.block_size + off)
        self.file.readinto(buf)

    def writeblocks(self, n, buf, off=None):
        self.file.seek(n * self.block_size + (off or 0))
        self.file.write(buf)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # erase a block: flash erases to 0xFF
            self.file.seek(arg * self.block_size)
            self.file.write(b"\xff" * self.block_size)
        return 0


def mount():
    flash = FileFlash(os.getenv("EMBER_VIRTUAL_IMAGE"), int(os.getenv("EMBER_VIRTUAL_BLOCK_SIZE")))
    try:
        fs = vfs.VfsLfs2(flash)
    except OSError:  # a blank flash: formatted, as inisetup.py does on an ESP32's first boot
        vfs.VfsLfs2.mkfs(flash)
        fs = vfs.VfsLfs2(flash)
    vfs.mount(fs, "/")
    os.chdir("/")


def boot_script():
    try:
        with open("boot.py") as f:
            code = f.read()
    except OSError:
        return
    exec(code, {"__name__": "boot"})


mount()
boot_script()

from ember_device import runtime  # noqa: E402 - the runtime starts after the filesystem

runtime.run(**json.loads(os.getenv("EMBER_VIRTUAL_RUNTIME") or "{}"))
