"""ember-provision: per-device filesystem images and factory flashing, one device or a batch.

`image` writes a unit's LittleFS2 image (device.py), `flash` writes one unit over serial, and
`batch` reads a CSV (units.py), checks it whole, and flashes every port of a station at once
(station.py), recording each unit in a results file it can resume from (results.py).
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

from . import device, station
from .results import Ledger
from .target import ProvisionError, Target
from .units import read_units


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ProvisionError(f"{path}: {e}") from None


def image(target, a):
    if a.flash_size:
        target.check_flash_size(a.flash_size)
    if a.factory:
        target.firmware_file()  # refused before anything is written
    img = device.build_image(device.device_config(_read_json(a.config)), target.fs, a.www)
    Path(a.out).write_bytes(img)
    print(
        f"{a.out}: {target.fs.block_count} x {target.fs.block_size} B LittleFS2 for "
        f"{target.board} @{target.fs.offset:#x}, sha256 {hashlib.sha256(img).hexdigest()}"
    )
    if a.factory:
        device.write_factory(target, a.out, a.factory)
        print(f"{a.factory}: factory image, flash at 0x0")
    return 0


def flash(target, a):
    raw = _read_json(a.config)
    device.preflight(target, raw, a.www, a.fs_only)
    rec = device.flash_unit(target, raw, a.port, a.www, a.baud, a.fs_only, a.dry_run)
    print(device.record_line(rec))
    return 0


def batch(target, a):
    ports = list(dict.fromkeys(a.port or []))
    units = read_units(a.csv, have_port=bool(ports))
    ledger = Ledger(a.results, a.csv)
    todo = ledger.plan(units)
    skipped = len(units) - len(todo)
    if todo:  # the first unit stands for all: the firmware, and whether --www fits
        device.preflight(target, todo[0].raw, a.www, fs_only=a.fs_only or a.dry_run)
    done_before = f", {skipped} recorded ok before" if skipped else ""
    if a.dry_run or not todo:
        what = "no device touched, nothing written" if a.dry_run else "nothing to do"
        print(f"{a.csv}: {len(todo)} units to provision{done_before}; {what}")
        return 0
    ports += sorted({u.port for u in todo if u.port} - set(ports))
    ledger.open()
    try:
        ok, failed, left, interrupted = station.run(
            target, todo, ports, ledger, a.www, a.baud, a.fs_only
        )
    finally:
        ledger.close()
    summary = (
        f"{ok} provisioned, {failed} failed, {left} not started{done_before}; "
        f"results in {a.results}"
    )
    if interrupted:
        print(f"interrupted: {summary}; run the same command again to resume")
        return 130
    if failed or left:
        print(f"{summary}; put the next units on the ports and run the same command again")
        return 1
    print(summary)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ember-provision", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)

    def common(p):
        src = p.add_mutually_exclusive_group(required=True)
        src.add_argument(
            "--release",
            help="dist/<BOARD>/, or a GitHub release's <BOARD>-<tag>-manifest.json",
        )
        src.add_argument(
            "--board", help="board definition alone: filesystem images and --fs-only flashing"
        )
        p.add_argument("--www", help="directory copied to /www (.gz files kept as they are)")

    p = sub.add_parser("image", help="write a filesystem image (and optionally a factory image)")
    common(p)
    p.add_argument("--config", required=True, help="device config JSON")
    p.add_argument("--out", required=True, help="filesystem image to write")
    p.add_argument("--factory", help="also write firmware + filesystem merged, to flash at 0x0")
    p.add_argument("--flash-size", help="the target's flash size; refused unless the board's")

    f = sub.add_parser("flash", help="provision one device over serial")
    common(f)
    f.add_argument("--config", required=True, help="device config JSON")
    f.add_argument("--port", required=True)
    f.add_argument("--dry-run", action="store_true", help="print the esptool commands instead")

    b = sub.add_parser("batch", help="provision one device per CSV row, every port at once")
    common(b)
    b.add_argument("--csv", required=True, help="one unit per row: config fields and 'port'")
    b.add_argument(
        "--port", action="append", help="a port of the station, for rows without one (repeat)"
    )
    b.add_argument("--results", required=True, help="results CSV, appended to (resumes a batch)")
    b.add_argument(
        "--dry-run",
        action="store_true",
        help="only check the CSV, --www and earlier results: no device touched, nothing written",
    )
    for serial in (f, b):
        serial.add_argument("--baud", type=int, default=460800)
        serial.add_argument("--fs-only", action="store_true", help="write only the filesystem")

    a = ap.parse_args(argv)
    try:
        target = Target.release(a.release) if a.release else Target.board_definition(a.board)
        return {"image": image, "flash": flash, "batch": batch}[a.mode](target, a)
    except (ProvisionError, RuntimeError, OSError) as e:
        for line in str(e).splitlines():
            print(f"ember-provision: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
