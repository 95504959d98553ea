"""What a linked firmware uses of each memory region, against the linker's limits, with a budget.

The linker already fails a build that overflows a region; this report shows how close a build is,
and fails it earlier: IRAM (code that must run from RAM) is the ESP8266's tightest region, and a
firmware left with less than IRAM_HEADROOM bytes free there cannot take the next fix.

    python -m ember_host.imagesize EMBER_ESP8266 --build build/EMBER_ESP8266 --micropython DIR

Writes size.json into the build directory and prints one line per region.
"""

import argparse
import json
import re
import sys
from pathlib import Path

from . import boards
from .elf import Elf

IRAM_HEADROOM = 1024
# MEMORY regions by their ESP8266 linker names, as the report names them.
REGION_NAMES = {
    "iram1_0_seg": "IRAM .text",
    "dram0_0_seg": "DRAM data+rodata+bss",
    "irom0_0_seg": "irom0 (flash-mapped code)",
}
_SIZE = re.compile(r"(0x[0-9a-fA-F]+|\d+)\s*([KM]?)")


def _number(expr):
    """A MEMORY length or origin: 0x40100000, 32K, 1M - 36K."""
    total, sign = 0, 1
    for token in re.split(r"\s*([+-])\s*", expr.strip()):
        if token in "+-":
            sign = 1 if token == "+" else -1
            continue
        m = _SIZE.fullmatch(token)
        if not m:
            raise ValueError(f"cannot read {expr!r} in a linker script")
        total += sign * int(m.group(1), 0) * {"": 1, "K": 1 << 10, "M": 1 << 20}[m.group(2)]
    return total


def memory_regions(ld_text):
    """{name: (origin, length)} from a linker script's MEMORY block."""
    block = re.search(r"MEMORY\s*{([^}]*)}", ld_text)
    if not block:
        raise ValueError("no MEMORY block in the linker script")
    line = re.compile(r"(\w+)\s*(?:\([^)]*\))?\s*:\s*org\s*=\s*([^,]+),\s*len\s*=\s*([^\n]+)")
    return {m[1]: (_number(m[2]), _number(m[3])) for m in line.finditer(block.group(1))}


def board_linker_script(board, mpy_dir):
    """The LD_FILES of an ESP8266 board (relative to the port, as its Makefile takes it)."""
    mk = (boards.BOARDS_DIR / board.name / "mpconfigboard.mk").read_text()
    m = re.search(r"^LD_FILES\s*[:?]?=\s*(\S+)", mk, re.MULTILINE)
    if not m:
        raise ValueError(f"{board.name}: no LD_FILES in mpconfigboard.mk")
    return Path(mpy_dir) / "ports" / board.port / m.group(1)


def report(board, build_dir, mpy_dir):
    """{region: {used, limit, free}} plus firmware.bin against the room before the filesystem."""
    build_dir = Path(build_dir)
    regions = memory_regions(board_linker_script(board, mpy_dir).read_text())
    sections = Elf(build_dir / "firmware.elf").allocated()
    out = {}
    for name, label in REGION_NAMES.items():
        origin, length = regions[name]
        used = sum(s.size for s in sections if origin <= s.addr < origin + length)
        out[label] = {"used": used, "limit": length, "free": length - used}
    fw = (build_dir / "firmware.bin").stat().st_size
    room = board.filesystem.offset - board.firmware_offset
    out["firmware.bin"] = {"used": fw, "limit": room, "free": room - fw}
    return out


def check(sizes, iram_headroom=IRAM_HEADROOM):
    """The reasons the build is over budget (an empty list when it is not)."""
    errors = [
        f"{k}: {v['used']} bytes, over its {v['limit']}" for k, v in sizes.items() if v["free"] < 0
    ]
    iram = sizes[REGION_NAMES["iram1_0_seg"]]["free"]
    if 0 <= iram < iram_headroom:
        errors.append(f"IRAM headroom {iram} bytes, under the {iram_headroom}-byte budget")
    return errors


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m ember_host.imagesize", description=__doc__.split("\n")[0]
    )
    ap.add_argument("board")
    ap.add_argument("--build", required=True, help="the board's build directory (firmware.elf)")
    ap.add_argument("--micropython", required=True, help="the MicroPython tree it was built from")
    ap.add_argument("--iram-headroom", type=int, default=IRAM_HEADROOM)
    a = ap.parse_args(argv)
    try:
        board = boards.load(a.board)
        sizes = report(board, a.build, a.micropython)
    except (ValueError, OSError, KeyError) as e:
        print(f"imagesize: {e}", file=sys.stderr)
        return 1
    (Path(a.build) / "size.json").write_text(json.dumps(sizes, indent=2) + "\n")
    print(f"{a.board} size (bytes):")
    for name, v in sizes.items():
        print(f"  {name:<27} {v['used']:>9,} of {v['limit']:>9,}  ({v['free']:,} free)")
    errors = check(sizes, a.iram_headroom)
    for e in errors:
        print(f"imagesize: {a.board}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
