"""Release assembly: turn a board's build output into dist/<board>/.

Writes firmware.bin, micropython.bin (the app image, ESP32 family only), factory.bin (merged
at 0x0 with esptool merge-bin), manifest.json (what ember-provision, `build.sh flash` and
ember-update read; its "ota" entry names the image an over-the-air update sends, on boards with
two OTA slots) and SHA256SUMS. Sizes are checked against the board's partition table and
filesystem first.
"""

import argparse
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

from . import boards, esp, partitions

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def micropython_version(mpy_dir):
    """'1.28.0', from py/mpconfig.h (works without git metadata)."""
    text = (Path(mpy_dir) / "py" / "mpconfig.h").read_text()
    parts = [
        re.search(rf"#define MICROPY_VERSION_{p} (\d+)", text).group(1)
        for p in ("MAJOR", "MINOR", "MICRO")
    ]
    return ".".join(parts)


def _check_sizes(board, firmware, app):
    end = board.firmware_offset + firmware.stat().st_size
    if board.filesystem and end > board.filesystem.offset:
        raise ValueError(
            f"firmware.bin ends at {end:#x}, inside the filesystem at {board.filesystem.offset:#x}"
        )
    if app and board.partition_table:
        slots = [
            p for p in partitions.parse_csv(board.partition_table.read_text()) if p.type == "app"
        ]
        room = min(p.size for p in slots)
        if app.stat().st_size > room:
            raise ValueError(
                f"micropython.bin is {app.stat().st_size:#x} bytes, "
                f"larger than its app partition ({room:#x})"
            )


def ota_slot_size(board):
    """The size of one OTA app slot when the board's partition table has two and otadata (the
    ESP32 and S3 do; the C3's single factory app cannot be updated over the air), else None."""
    if not board.partition_table:
        return None
    parts = partitions.parse_csv(board.partition_table.read_text())
    slots = [p for p in parts if p.type == "app" and p.subtype.startswith("ota_")]
    has_otadata = any(p.type == "data" and p.subtype == "ota" for p in parts)
    return min(p.size for p in slots) if len(slots) >= 2 and has_otadata else None


def assemble(board, build_dir, out_dir, ember_version, mpy_version):
    """Build dist/<board>/ from `build_dir`; returns the manifest dict."""
    build_dir, out_dir = Path(build_dir), Path(out_dir)
    if not board.flashable:
        raise ValueError(f"{board.name} is a host board: nothing to release")
    firmware = build_dir / "firmware.bin"
    app = build_dir / "micropython.bin" if board.app_offset is not None else None
    for f in filter(None, (firmware, app)):
        if not f.is_file():
            raise ValueError(f"{f} is missing: build the board first")
    _check_sizes(board, firmware, app)

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"firmware.bin": board.firmware_offset, "factory.bin": 0}
    shutil.copyfile(firmware, out_dir / "firmware.bin")
    if app:
        shutil.copyfile(app, out_dir / "micropython.bin")
        files["micropython.bin"] = board.app_offset
    esp.merge(
        board.chip,
        out_dir / "factory.bin",
        {board.firmware_offset: out_dir / "firmware.bin"},
        board.flash_size,
    )

    manifest = {
        "board": board.name,
        "chip": board.chip,
        "port": board.port,
        "flash_size": board.flash_size,
        "firmware_offset": f"{board.firmware_offset:#x}",
        "app_offset": None if app is None else f"{board.app_offset:#x}",
        "partition_table_offset": None
        if board.partition_table_offset is None
        else f"{board.partition_table_offset:#x}",
        "filesystem": board.filesystem.to_json() if board.filesystem else None,
        "ember_version": ember_version,
        "micropython_version": mpy_version,
        "files": {
            name: {
                "offset": f"{offset:#x}",
                "size": (out_dir / name).stat().st_size,
                "sha256": sha256(out_dir / name),
            }
            for name, offset in sorted(files.items())
        },
    }
    slot = ota_slot_size(board) if app else None
    manifest["ota"] = None if slot is None else {
        "file": "micropython.bin",
        "size": manifest["files"]["micropython.bin"]["size"],
        "sha256": manifest["files"]["micropython.bin"]["sha256"],
        "slot_size": slot,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    names = sorted(files) + [MANIFEST]
    (out_dir / SUMS).write_text("".join(f"{sha256(out_dir / n)}  {n}\n" for n in names))
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m ember_host.release", description=__doc__.split("\n")[0]
    )
    ap.add_argument("board")
    ap.add_argument("--build", required=True, help="the board's MicroPython build directory")
    ap.add_argument("--out", required=True, help="release directory (dist/<board>)")
    ap.add_argument("--ember-version", required=True)
    ap.add_argument("--micropython-version", help="default: read from --micropython")
    ap.add_argument("--micropython", default=str(boards.ROOT / "micropython"))
    a = ap.parse_args(argv)
    try:
        board = boards.load(a.board)
        mpy_version = a.micropython_version or micropython_version(a.micropython)
        manifest = assemble(board, a.build, a.out, a.ember_version, mpy_version)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"release: {e}", file=sys.stderr)
        return 1
    for name, f in manifest["files"].items():
        print(f"{a.out}/{name}  @{f['offset']}  {f['size']} bytes  sha256 {f['sha256'][:16]}…")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
