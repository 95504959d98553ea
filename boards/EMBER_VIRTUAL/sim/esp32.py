"""SIMULATION of the ESP32's OTA partitions (`esp32.Partition`) for the EMBER_VIRTUAL board.

Flash is a file (EMBER_VIRTUAL_FLASH) laid out as EMBER_ESP32's table from otadata on: two
sectors of otadata, then the slots ota_0 and ota_1 of 0x180000 bytes each. otadata holds the
IDF's 32-byte entries (ota_seq, seq_label[20], ota_state, crc = crc32 of ota_seq) with the
IDF's rollback states, and the same rules decide what boots:

    set_boot()                         an entry for that slot, next sequence number, state NEW
    bootloader(), entry NEW            → PENDING_VERIFY, boot it
    bootloader(), entry PENDING_VERIFY → ABORTED (it never called mark_app_valid...), boot the
                                         entry before it
    mark_app_valid_cancel_rollback()   PENDING_VERIFY → VALID

The bootloader is the launcher (ember_host.virtual, CPython): before each start of the process
it calls bootloader(f), extracts the chosen slot's executable with firmware(f, label) and runs
it with EMBER_VIRTUAL_RUNNING=<label>. The firmware opens the flash file when this module is
imported, before virtual_main mounts the filesystem image over "/" and hides the host's paths.
So an OTA image for this board is the virtual firmware executable inside an ESP app image
header (pack_image), chip id 0xEB, which no real chip has. This module runs on both
MicroPython (the device side) and CPython (the launcher).

Not simulated: the image checksum and appended SHA-256 the real bootloader verifies (set_boot()
checks the header, the app descriptor, the chip and the length only), flash encryption.
"""

import os
import struct
from binascii import crc32

TYPE_APP = 0
TYPE_DATA = 1
BOOT = 0
RUNNING = 1

SECTOR = 4096
OTADATA = 2 * SECTOR
SLOT = 0x180000
SLOTS = ("ota_0", "ota_1")
CHIP_ID = 0xEB
NEW, PENDING_VERIFY, VALID, INVALID, ABORTED, UNDEFINED = 0, 1, 2, 3, 4, 0xFFFFFFFF
_ENOENT = 2
_ESP_ERR_INVALID_SIZE = -260
_ESP_ERR_OTA_VALIDATE_FAILED = -0x1503


_FLASH = os.getenv("EMBER_VIRTUAL_FLASH")
_FLASH = open(_FLASH, "r+b") if _FLASH else None  # the launcher imports this with it unset


def _flash():
    if _FLASH is None:
        raise OSError(_ENOENT)  # as on a board without OTA slots
    return _FLASH


def _io(f, offset, data=None, n=0):
    f.seek(offset)
    if data is None:
        return f.read(n)
    f.write(data)
    f.flush()  # the launcher reads otadata when this process is killed


# -- otadata (shared by the launcher's bootloader and the app's set_boot) --

def _entries(f):
    """[(seq, state) or None] for the two otadata sectors (None: blank or bad CRC)."""
    out = []
    for i in range(2):
        raw = _io(f, i * SECTOR, n=32)
        seq, state, crc = struct.unpack("<I20xII", raw)
        ok = seq != 0xFFFFFFFF and crc == crc32(raw[:4]) & 0xFFFFFFFF
        out.append((seq, state) if ok else None)
    return out


def _write_entry(f, i, seq, state):
    head = struct.pack("<I", seq)
    raw = head + bytes(20) + struct.pack("<II", state, crc32(head) & 0xFFFFFFFF)
    _io(f, i * SECTOR, raw + b"\xff" * (SECTOR - 32))


def _active(f):
    """Index of the entry that selects the boot slot: the highest sequence number among the
    entries not INVALID or ABORTED; None when there is none (blank otadata: ota_0 boots)."""
    best = None
    for i, e in enumerate(_entries(f)):
        if e is not None and e[1] not in (INVALID, ABORTED):
            if best is None or e[0] > best[1]:
                best = (i, e[0])
    return None if best is None else best[0]


def _slot_of(seq):
    return SLOTS[(seq - 1) % len(SLOTS)]


def bootloader(f):
    """What the ROM bootloader does at each reset (rollback enabled): returns the label of the
    slot that boots, after moving NEW to PENDING_VERIFY and PENDING_VERIFY to ABORTED."""
    while True:
        i = _active(f)
        if i is None:
            return SLOTS[0]
        seq, state = _entries(f)[i]
        if state == PENDING_VERIFY:  # the last boot of this image never marked it valid
            _write_entry(f, i, seq, ABORTED)
            continue
        if state == NEW:
            _write_entry(f, i, seq, PENDING_VERIFY)
        return _slot_of(seq)


def new_flash(path, image):
    """A freshly flashed board: `image` in ota_0, blank otadata (as esptool leaves it)."""
    with open(path, "wb") as f:
        f.write(b"\xff" * OTADATA)
        f.write(image + b"\xff" * (SLOT - len(image)))
        f.write(b"\xff" * SLOT)


def _offset(label):
    return OTADATA + SLOTS.index(label) * SLOT


def firmware(f, label):
    """The executable inside the image in slot `label` (the launcher runs it)."""
    head = _io(f, _offset(label), n=32)
    length = struct.unpack("<I", head[28:32])[0]
    return _io(f, _offset(label) + 32 + 256, n=length - 256)


def pack_image(executable, version="", project="ember"):
    """An ESP app image (one segment: the app descriptor, then `executable`) for this board."""
    def text(s, n):
        b = s.encode()[:n - 1]
        return b + bytes(n - len(b))
    desc = (struct.pack("<II8x", 0xABCD5432, 0) + text(version, 32) + text(project, 32)
            + text("00:00:00", 16) + text("Dec  1 2026", 16) + text("SIMULATION", 32)
            + bytes(32))
    desc += bytes(256 - len(desc))
    header = bytes((0xE9, 1, 2, 0x20)) + bytes(8) + struct.pack("<H", CHIP_ID) + bytes(9) + b"\0"
    seg = struct.pack("<II", 0x3F400020, len(desc) + len(executable))
    return header + seg + desc + executable


# -- the device side: esp32.Partition --

class Partition:
    """An app slot (ota_0, ota_1) or otadata of the flash file; block_size 4096."""

    BOOT = BOOT
    RUNNING = RUNNING
    TYPE_APP = TYPE_APP
    TYPE_DATA = TYPE_DATA

    def __init__(self, id, block_size=SECTOR):
        if id == RUNNING:
            id = os.getenv("EMBER_VIRTUAL_RUNNING") or SLOTS[0]
        elif id == BOOT:
            i = _active(_flash())
            id = SLOTS[0] if i is None else _slot_of(_entries(_flash())[i][0])
        if id == "otadata":
            self._info = (TYPE_DATA, 0, 0, OTADATA, id, False)
        elif id in SLOTS:
            self._info = (TYPE_APP, 0x10 + SLOTS.index(id), _offset(id), SLOT, id, False)
        else:
            raise ValueError("partition not found")
        self.block_size = block_size

    @staticmethod
    def find(type=TYPE_APP, subtype=0xFF, label=None, block_size=SECTOR):
        names = SLOTS if type == TYPE_APP else ("otadata",)
        return [Partition(n, block_size) for n in names if label in (None, n)]

    def info(self):
        return self._info

    def __repr__(self):
        return "<Partition type=%d, subtype=%d, address=%d, size=%d, label=%s, encrypted=%d>" % (
            self._info)

    def readblocks(self, n, buf, off=0):
        data = _io(_flash(), self._info[2] + n * self.block_size + off, n=len(buf))
        buf[: len(data)] = data

    def writeblocks(self, n, buf, off=None):
        if off is None:  # erase, then write: whole sectors only (IDF esp_partition_erase_range)
            if len(buf) % SECTOR:
                raise OSError(_ESP_ERR_INVALID_SIZE)
            off = 0
        _io(_flash(), self._info[2] + n * self.block_size + off, bytes(buf))

    def ioctl(self, op, arg):
        if op == 4:
            return self._info[3] // self.block_size
        if op == 5:
            return self.block_size
        if op == 6:
            _io(_flash(), self._info[2] + arg * self.block_size, b"\xff" * self.block_size)
            return 0
        return None

    def get_next_update(self):
        running = os.getenv("EMBER_VIRTUAL_RUNNING") or SLOTS[0]
        return Partition(SLOTS[(SLOTS.index(running) + 1) % len(SLOTS)])

    def set_boot(self):
        """Verify the image (header, app descriptor, chip, length), then select it: an entry
        with the next sequence number for this slot, state NEW."""
        f = _flash()
        head = _io(f, self._info[2], n=36)
        length = 32 + struct.unpack("<I", head[28:32])[0]
        if (head[0] != 0xE9 or head[12] | head[13] << 8 != CHIP_ID
                or head[32:36] != b"\x32\x54\xcd\xab" or length > SLOT):
            raise OSError(_ESP_ERR_OTA_VALIDATE_FAILED)
        i = _active(f)
        seq = 0 if i is None else _entries(f)[i][0]
        seq += 1
        while _slot_of(seq) != self._info[4]:
            seq += 1
        _write_entry(f, 0 if i is None else 1 - i, seq, NEW)

    @staticmethod
    def mark_app_valid_cancel_rollback():
        f = _flash()
        i = _active(f)
        if i is None:  # blank otadata: the IDF answers ESP_FAIL
            raise OSError(-1)
        seq, state = _entries(f)[i]
        if state == PENDING_VERIFY:
            _write_entry(f, i, seq, VALID)
