"""Firmware updates (ESP32 family): an app image streamed into the next OTA slot, verified, set
to boot; after the reboot, whether it stayed (marked valid) or the bootloader rolled it back.

Nothing but the next OTA slot is written until every check has passed: the header (an ESP app
image, for the chip this device is), the size (fits the slot), the SHA-256 the client declared,
and the same hash read back from flash. Only then does `set_boot()` change what boots. A refusal
or a cut upload erases the slot's first block, so a half-written image can never be chosen.

`image_info` is also what the host tool runs on a release's micropython.bin before sending it
(this module imports nothing of ember's, and no device module at the top).
"""

import hashlib
import os
from binascii import hexlify

from .records import Refused
from . import records

BLOCK = 4096  # a flash sector: esp32.Partition.writeblocks erases exactly what it writes
HEAD = 256  # image header (24) + first segment header (8) + the start of the app descriptor
MAGIC = 0xE9
DESC_MAGIC = b"\x32\x54\xcd\xab"  # 0xABCD5432 little-endian, at offset 32 of an app image
# esp_chip_id_t values; 0xEB is not Espressif's: it is the virtual board's (SIMULATION).
CHIPS = {0: "esp32", 2: "esp32s2", 5: "esp32c3", 9: "esp32s3", 12: "esp32c2", 13: "esp32c6",
         0xEB: "virtual"}


def _text(b):
    end = b.find(b"\0")
    return bytes(b if end < 0 else b[:end]).decode()


def chip_name(chip_id):
    return CHIPS.get(chip_id, "chip %d" % chip_id)


def image_info(head):
    """The fields of an ESP app image's header and app descriptor, from its first HEAD bytes.

    Raises Refused(422) for anything that is not an application image."""
    if len(head) < HEAD:
        raise Refused(422, "%d bytes: too short for an app image" % len(head))
    if head[0] != MAGIC:
        raise Refused(422, "not an ESP app image (first byte 0x%02x, not 0xe9)" % head[0])
    if bytes(head[32:36]) != DESC_MAGIC:
        # firmware.bin (bootloader + table + app) starts with the bootloader's own 0xE9 header
        raise Refused(422, "an ESP image without an app descriptor: send micropython.bin, "
                      "the application image, not the bootloader or firmware.bin")
    try:
        return {
            "chip_id": head[12] | head[13] << 8,
            "version": _text(head[48:80]),
            "project": _text(head[80:112]),
            "date": _text(head[128:144]),
            "idf": _text(head[144:176]),
        }
    except UnicodeError:
        raise Refused(422, "the app descriptor's text fields are not text")


def check_chip(info, chip_id):
    if info["chip_id"] != chip_id:
        raise Refused(422, "an image for %s; this device is %s"
                      % (chip_name(info["chip_id"]), chip_name(chip_id)))


def _esp32():
    try:
        import esp32
    except ImportError:
        raise Refused(501, "this board has no firmware update (no esp32 module): use /_ember/app")
    return esp32


def running():
    """(label, chip_id) of the firmware running now, read from its own image header."""
    esp32 = _esp32()
    part = esp32.Partition(esp32.Partition.RUNNING)
    buf = bytearray(BLOCK)
    part.readblocks(0, buf)
    return part.info()[4], buf[12] | buf[13] << 8


def next_slot():
    """The OTA slot an update goes to; Refused(501) on a board without two slots."""
    esp32 = _esp32()
    try:
        return esp32.Partition(esp32.Partition.RUNNING).get_next_update()
    except OSError:
        raise Refused(501, "this board's partition table has no second OTA slot: use /_ember/app")


def _hex(h):
    return hexlify(h.digest()).decode()


async def receive(body, length, sha256, part, chip_id):
    """Stream `length` bytes of `body` (anything with `async readinto`) into partition `part`
    through one BLOCK buffer; returns the image's info once its SHA-256 (hex, declared by the
    client) matches both what arrived and what reads back from flash. Raises Refused, or the
    reader's own error for a cut upload, with the slot's first block erased."""
    size = part.info()[3]
    if length > size:
        raise Refused(413, "the image is %d bytes; the slot %s holds %d"
                      % (length, part.info()[4], size))
    if length < HEAD:
        raise Refused(422, "%d bytes: too short for an app image" % length)
    buf = bytearray(BLOCK)
    h = hashlib.sha256()
    done = 0
    block = 0
    info = None
    try:
        while done < length:
            n = await records.fill(body, buf, min(BLOCK, length - done))
            if info is None:  # checked before the first write
                info = image_info(buf)
                check_chip(info, chip_id)
            h.update(memoryview(buf)[:n])
            if n < BLOCK:
                buf[n:] = b"\xff" * (BLOCK - n)  # erased flash: as if never written
            part.writeblocks(block, buf)
            done += n
            block += 1
        got = _hex(h)
        if got != sha256:
            raise Refused(422, "SHA-256 mismatch: declared %s, received %s" % (sha256, got))
        h = hashlib.sha256()
        for i in range(block):
            part.readblocks(i, buf)
            h.update(memoryview(buf)[: min(BLOCK, length - i * BLOCK)])
        if _hex(h) != sha256:
            raise Refused(500, "flash reads back a different SHA-256: not booting it")
    except BaseException:
        if block:
            part.ioctl(6, 0)  # erase block 0: no header, so nothing can boot what is there
        raise
    return info


def set_boot(part, sha256, version, current):
    """Record what to expect after the reboot, then make `part` boot next. In that order: a
    record that cannot be written (a full filesystem) refuses the update before anything that
    boots has changed, where the other order left the new slot selected with no record (its
    rollback unwatched, the client told it was refused). A refused set_boot() puts back the
    previous record."""
    previous = records.read(records.OTA)
    records.write(records.OTA, {"state": "rebooting", "expect": part.info()[4], "version": version,
            "sha256": sha256, "from": current})
    try:
        part.set_boot()
    except OSError as e:
        if previous is None:
            os.remove(records.OTA)
        else:
            records.write(records.OTA, previous)
        raise Refused(422, "the bootloader refused the image (%s)" % e)


def boot_check():
    """At boot: (the last update's record or None, True if it was rolled back just now). Until
    the new image is marked valid, every boot checks it is still the one running: if not, the
    bootloader rolled it back (it never came up, or reset before healthy)."""
    rec = records.read(records.OTA)
    if rec is None or rec["state"] not in ("rebooting", "pending-verify"):
        return rec, False
    try:
        label = running()[0]
    except Refused:  # the record came over from a board with OTA: nothing to compare
        return rec, False
    if label == rec["expect"]:
        rec["state"] = "pending-verify"
    else:
        rec["state"] = "rolled-back"
        rec["rolled_back_from"] = rec["version"]
        rec["running"] = label
    records.write(records.OTA, rec)
    return rec, rec["state"] == "rolled-back"


def healthy():
    """The running firmware served for healthy_ms: cancel the rollback (a no-op once valid, and
    on a firmware that was flashed over serial, whose otadata may be blank)."""
    esp32 = _esp32()
    try:
        esp32.Partition.mark_app_valid_cancel_rollback()
    except OSError:  # no otadata, or blank otadata: nothing to cancel
        pass
    rec = records.read(records.OTA)
    if rec is not None and rec["state"] == "pending-verify":
        rec["state"] = "valid"
        records.write(records.OTA, rec)
    return rec
