"""One unit: its config, its LittleFS2 filesystem image, and writing both over serial.

Everything per-device (Wi-Fi credentials, hostname, admin secret, device id, web assets) goes into
the image; the firmware stays the same for every unit. Secrets are never printed or written
anywhere but into the image itself.
"""

import hashlib
import json
import re
import tempfile
from pathlib import Path

from ember_device import config  # the schema the firmware checks at boot: one implementation
from littlefs import LittleFS, LittleFSError

from . import esp
from .target import ProvisionError

# MicroPython's LittleFS2 configuration (extmod/vfs_lfsx.c); only block geometry varies by board.
LFS2_PARAMS = {
    "read_size": 32,
    "prog_size": 32,
    "lookahead_size": 32,
    "block_cycles": 100,
    "name_max": 255,
}
LFS_ERR_NOSPC = -28

DRY_RUN_MAC = "00:00:00:00:00:00"




def device_id_from_mac(mac):
    return "ember-" + mac.replace(":", "").lower()[-6:]


def device_config(raw, mac=None):
    """Validated config; device_id and hostname default to ones derived from the MAC."""
    raw = dict(raw)
    if mac:
        raw.setdefault("device_id", device_id_from_mac(mac))
        raw.setdefault("hostname", raw["device_id"])
    try:
        return config.validate(raw)
    except config.ConfigError as e:
        raise ProvisionError(str(e)) from None


def _fill(lfs, cfg, www, files=None):
    with lfs.open("/config.json", "w") as f:
        f.write(json.dumps(cfg, sort_keys=True))
    for target, data in sorted((files or {}).items()):
        with lfs.open(target, "wb") as f:
            f.write(data)
    if www:
        lfs.mkdir("/www")
        for path in sorted(www.rglob("*")):
            target = "/www/" + path.relative_to(www).as_posix()
            if path.is_dir():
                lfs.mkdir(target)
            else:  # pre-gzipped .gz files are kept as they are
                with lfs.open(target, "wb") as f:
                    f.write(path.read_bytes())


def build_image(cfg, fs, www=None, files=None):
    """A LittleFS2 image of exactly fs.size bytes holding /config.json and /www/...; `files`
    ({"/name": bytes}, top-level) adds others, such as the HIL plugin's --hil-app module."""
    www = Path(www) if www else None
    if www and not www.is_dir():
        raise ProvisionError(f"--www {www}: no such directory")
    lfs = LittleFS(block_size=fs.block_size, block_count=fs.block_count, **LFS2_PARAMS)
    try:
        _fill(lfs, cfg, www, files)
    except LittleFSError as e:
        if e.code != LFS_ERR_NOSPC:
            raise
        raise ProvisionError(_too_large(cfg, fs, www)) from None
    return bytes(lfs.context.buffer)


def _too_large(cfg, fs, www):
    """How much too large: the same files written into filesystems twice as big until they fit."""
    blocks = fs.block_count * 2
    while True:
        lfs = LittleFS(block_size=fs.block_size, block_count=blocks, **LFS2_PARAMS)
        try:
            _fill(lfs, cfg, www)
            break
        except LittleFSError as e:
            if e.code != LFS_ERR_NOSPC:
                raise
            blocks *= 2
    files = sum(p.stat().st_size for p in www.rglob("*") if p.is_file())
    kib = fs.block_size // 1024
    return (
        f"--www {www}: {files // 1024} KiB of files need {lfs.used_block_count * kib} KiB of "
        f"filesystem with /config.json, the board has {fs.block_count * kib} KiB: "
        f"{(lfs.used_block_count - fs.block_count) * kib} KiB too large"
    )


def write_factory(target, image_path, out, dry_run=False):
    """firmware.bin and the filesystem image merged into one file flashed at 0x0."""
    esp.merge(
        target.chip,
        out,
        {target.firmware_offset: target.firmware_file(), target.fs.offset: image_path},
        target.flash_size,
        dry_run=dry_run,
    )


_FLASH_ID = {"mac": r"^MAC:\s+([0-9a-f:]{17})", "flash_size": r"^Detected flash size:\s+(\S+)"}


def detect(target, port, baud, dry_run=False):
    """(MAC, flash size) over serial; esptool itself refuses a chip other than the target's."""
    out = esp.run(
        ["--chip", target.chip, "--port", port, "--baud", str(baud), "flash-id"],
        dry_run=dry_run,
        capture=True,
    )
    if dry_run:
        return DRY_RUN_MAC, target.flash_size
    found = {}
    for key, pattern in _FLASH_ID.items():
        m = re.search(pattern, out, re.MULTILINE)
        if not m:
            raise ProvisionError(f"{port}: esptool flash-id did not report the {key}")
        found[key] = m.group(1)
    return found["mac"], found["flash_size"]


def preflight(target, raw, www=None, fs_only=False):
    """What can be refused before a device is touched: the config, the firmware, the image."""
    if not fs_only:
        target.firmware_file()
    build_image(device_config(raw, DRY_RUN_MAC), target.fs, www)


def flash_unit(
    target,
    raw,
    port,
    www=None,
    baud=460800,
    fs_only=False,
    dry_run=False,
    claim=None,
    step=None,
    files=None,
):
    """Detect, build the image, write and verify one unit; returns its record (no secrets).

    `claim(mac, cfg)` may refuse the unit once its MAC is known, before anything is written;
    `step(text)` hears each stage; `files` go into the image (build_image).
    """
    step = step or (lambda text: None)
    step("detecting")
    mac, flash_size = detect(target, port, baud, dry_run)
    target.check_flash_size(flash_size)
    cfg = device_config(raw, mac)
    if claim:
        claim(mac, cfg)
    image = build_image(cfg, target.fs, www, files)
    with tempfile.TemporaryDirectory(prefix="ember-provision-") as tmp:
        image_path = Path(tmp) / "vfs.bin"
        image_path.write_bytes(image)
        pairs = [f"{target.fs.offset:#x}", str(image_path)]
        if not fs_only:
            pairs = [f"{target.firmware_offset:#x}", str(target.firmware_file())] + pairs
        common = ["--chip", target.chip, "--port", port, "--baud", str(baud)]
        step(f"{cfg['device_id']}: writing")
        # --flash-size: an ESP8266 image header says 1MB whatever the module has.
        write = ["write-flash", "--flash-size", target.flash_size]
        esp.run(common + write + pairs, dry_run=dry_run)
        step(f"{cfg['device_id']}: verifying")
        esp.run(common + ["verify-flash"] + pairs, dry_run=dry_run)
    return {
        "device_id": cfg["device_id"],
        "mac": mac,
        "hostname": cfg["hostname"],
        "image_sha256": hashlib.sha256(image).hexdigest(),
    }


def record_line(rec):
    return (
        f"OK {rec['device_id']} mac={rec['mac']} hostname={rec['hostname']} "
        f"sha256={rec['image_sha256']}"
    )
