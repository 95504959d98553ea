"""ember-provision: per-device filesystem images and factory flashing, one device or a batch.

Everything per-device (Wi-Fi credentials, hostname, admin secret, device id, web assets) goes into
a LittleFS2 image for the board's vfs partition; the firmware in the release stays the same for
every unit. Secrets are never printed or written anywhere but into the image itself.
"""

import argparse
import csv
import hashlib
import importlib.util
import json
import re
import sys
import tempfile
from pathlib import Path

from littlefs import LittleFS

from . import boards, esp
from .boards import Filesystem

# MicroPython's LittleFS2 configuration (extmod/vfs_lfsx.c); only block geometry varies by board.
LFS2_PARAMS = {
    "read_size": 32,
    "prog_size": 32,
    "lookahead_size": 32,
    "block_cycles": 100,
    "name_max": 255,
}

DRY_RUN_MAC = "00:00:00:00:00:00"
RESULT_FIELDS = ["row", "status", "device_id", "mac", "hostname", "image_sha256", "error"]


def _load_config_module():
    # The schema the firmware validates at boot (modules/ember/config.py), loaded without the
    # rest of the ember package: one implementation on device and host.
    path = boards.ROOT / "modules" / "ember" / "config.py"
    spec = importlib.util.spec_from_file_location("ember_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


config = _load_config_module()


class ProvisionError(Exception):
    """A unit that cannot be provisioned; the message never contains a secret."""


class Release:
    """A release directory from the firmware pipeline (its manifest.json)."""

    def __init__(self, path):
        self.dir = Path(path)
        try:
            m = json.loads((self.dir / "manifest.json").read_text())
        except (OSError, ValueError) as e:
            raise ProvisionError(f"{self.dir}: not a release directory ({e})") from None
        if not m.get("filesystem"):
            raise ProvisionError(f"{self.dir}: board {m.get('board')} has no filesystem")
        self.board = m["board"]
        self.chip = m["chip"]
        self.flash_size = m["flash_size"]
        self.firmware_offset = int(m["firmware_offset"], 0)
        try:
            self.fs = Filesystem.from_json(m["filesystem"])
        except ValueError as e:
            raise ProvisionError(f"{self.dir}/manifest.json: {e}") from None

    def check_flash_size(self, size):
        """Refuse a device whose flash differs: its vfs partition would not match the image."""
        if size != self.flash_size:
            raise ProvisionError(
                f"flash size {size} does not match release {self.board} ({self.flash_size}): "
                f"its {self.fs.block_count}-block filesystem would not match the vfs partition "
                f"and MicroPython would not mount it"
            )


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


def config_from_row(row):
    """A CSV row as a raw config: empty cells are absent, http_port is a number."""
    raw = {k: v for k, v in row.items() if k in config.FIELDS and v not in ("", None)}
    if "http_port" in raw and raw["http_port"].isdigit():
        raw["http_port"] = int(raw["http_port"])
    return raw


def build_image(cfg, fs, www=None):
    """A LittleFS2 image of exactly fs.size bytes holding /config.json and /www/..."""
    lfs = LittleFS(block_size=fs.block_size, block_count=fs.block_count, **LFS2_PARAMS)
    with lfs.open("/config.json", "w") as f:
        f.write(json.dumps(cfg, sort_keys=True))
    if www:
        root = Path(www)
        lfs.mkdir("/www")
        for path in sorted(root.rglob("*")):
            target = "/www/" + path.relative_to(root).as_posix()
            if path.is_dir():
                lfs.mkdir(target)
            else:  # pre-gzipped .gz files are kept as they are
                with lfs.open(target, "wb") as f:
                    f.write(path.read_bytes())
    data = bytes(lfs.context.buffer)
    assert len(data) == fs.size
    return data


def write_factory(release, image_path, out, dry_run=False):
    """firmware.bin and the filesystem image merged into one file flashed at 0x0."""
    esp.merge(
        release.chip,
        out,
        {release.firmware_offset: release.dir / "firmware.bin", release.fs.offset: image_path},
        release.flash_size,
        dry_run=dry_run,
    )


_FLASH_ID = {"mac": r"^MAC:\s+([0-9a-f:]{17})", "flash_size": r"^Detected flash size:\s+(\S+)"}


def detect(release, port, baud, dry_run=False):
    """(MAC, flash size) over serial; esptool itself refuses a chip other than the release's."""
    out = esp.run(
        ["--chip", release.chip, "--port", port, "--baud", str(baud), "flash-id"],
        dry_run=dry_run,
        capture=True,
    )
    if dry_run:
        return DRY_RUN_MAC, release.flash_size
    found = {}
    for key, pattern in _FLASH_ID.items():
        m = re.search(pattern, out, re.MULTILINE)
        if not m:
            raise ProvisionError(f"{port}: esptool flash-id did not report the {key}")
        found[key] = m.group(1)
    return found["mac"], found["flash_size"]


def flash_unit(release, raw, port, www=None, baud=460800, fs_only=False, dry_run=False):
    """Detect, build the image, write and verify one unit; returns its record (no secrets)."""
    device_config(raw, DRY_RUN_MAC)  # refuse a bad config before touching the device
    mac, flash_size = detect(release, port, baud, dry_run)
    release.check_flash_size(flash_size)
    cfg = device_config(raw, mac)
    image = build_image(cfg, release.fs, www)
    with tempfile.TemporaryDirectory(prefix="ember-provision-") as tmp:
        image_path = Path(tmp) / "vfs.bin"
        image_path.write_bytes(image)
        pairs = [f"{release.fs.offset:#x}", str(image_path)]
        if not fs_only:
            pairs = [f"{release.firmware_offset:#x}", str(release.dir / "firmware.bin")] + pairs
        common = ["--chip", release.chip, "--port", port, "--baud", str(baud)]
        # --flash-size: an ESP8266 image header says 1MB whatever the module has.
        esp.run(
            common + ["write-flash", "--flash-size", release.flash_size] + pairs, dry_run=dry_run
        )
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


def batch(
    release,
    rows,
    port,
    results_path,
    www=None,
    baud=460800,
    fs_only=False,
    dry_run=False,
    log=print,
):
    """Provision every CSV row in turn, carrying on past failures; returns the failure count."""
    failures = 0
    with open(results_path, "w", newline="") as f:
        out = csv.DictWriter(f, RESULT_FIELDS)
        out.writeheader()
        for n, row in enumerate(rows, 1):
            unit_port = row.get("port") or port
            print(f"[{n}/{len(rows)}] {unit_port}", file=sys.stderr)
            result = {"row": n}
            try:
                if not unit_port:
                    raise ProvisionError("no serial port (--port or a 'port' column)")
                rec = flash_unit(
                    release, config_from_row(row), unit_port, www, baud, fs_only, dry_run
                )
                result.update(rec, status="ok")
                log(record_line(rec))
            except (ProvisionError, RuntimeError) as e:
                failures += 1
                result.update(status="failed", error=str(e))
                log(f"FAILED row {n}: {e}")
            out.writerow(result)
            f.flush()
    return failures


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ProvisionError(f"{path}: {e}") from None


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ember-provision", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)

    def common(p):
        p.add_argument("--release", required=True, help="release directory (dist/<board>)")
        p.add_argument("--www", help="directory copied to /www (.gz files kept as they are)")

    p = sub.add_parser("image", help="write a filesystem image (and optionally a factory image)")
    common(p)
    p.add_argument("--config", required=True, help="device config JSON")
    p.add_argument("--out", required=True, help="filesystem image to write")
    p.add_argument("--factory", help="also write firmware + filesystem merged, to flash at 0x0")
    p.add_argument("--flash-size", help="the target's flash size; refused unless the release's")

    for name, text in (
        ("flash", "provision one device over serial"),
        ("batch", "provision one device per CSV row, with a results CSV"),
    ):
        p = sub.add_parser(name, help=text)
        common(p)
        if name == "flash":
            p.add_argument("--config", required=True, help="device config JSON")
            p.add_argument("--port", required=True)
        else:
            p.add_argument(
                "--csv",
                required=True,
                help="one device per row; columns as config fields, plus an optional 'port'",
            )
            p.add_argument("--port", help="serial port for rows without a 'port' column")
            p.add_argument("--results", required=True, help="results CSV to write")
        p.add_argument("--baud", type=int, default=460800)
        p.add_argument("--fs-only", action="store_true", help="write only the filesystem")
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="print the esptool commands; no device is touched",
        )

    a = ap.parse_args(argv)
    try:
        release = Release(a.release)
        if a.mode == "image":
            if a.flash_size:
                release.check_flash_size(a.flash_size)
            cfg = device_config(_read_json(a.config))
            image = build_image(cfg, release.fs, a.www)
            Path(a.out).write_bytes(image)
            print(
                f"{a.out}: {release.fs.block_count} x {release.fs.block_size} B LittleFS2 for "
                f"{release.board} @{release.fs.offset:#x}, "
                f"sha256 {hashlib.sha256(image).hexdigest()}"
            )
            if a.factory:
                write_factory(release, a.out, a.factory)
                print(f"{a.factory}: factory image, flash at 0x0")
        elif a.mode == "flash":
            rec = flash_unit(
                release, _read_json(a.config), a.port, a.www, a.baud, a.fs_only, a.dry_run
            )
            print(record_line(rec))
        else:
            with open(a.csv, newline="") as f:
                rows = list(csv.DictReader(f))
            failures = batch(release, rows, a.port, a.results, a.www, a.baud, a.fs_only, a.dry_run)
            print(f"{len(rows) - failures} provisioned, {failures} failed; results in {a.results}")
            return 1 if failures else 0
    except (ProvisionError, RuntimeError, OSError) as e:
        print(f"ember-provision: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
