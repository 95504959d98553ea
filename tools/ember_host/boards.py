"""ember board definitions, read from boards/<NAME>/ember-board.json.

That file is the one place a board's chip, flash size, offsets and filesystem geometry are
written down; build.sh, the release step and ember-provision all read it through here.
"""

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOARD_FILE = "ember-board.json"


def _boards_dir():
    """boards/ of the checkout this file is in; installed from a wheel, the copy beside this
    file (ember_host/board_files/, which pyproject.toml fills from boards/)."""
    installed = Path(__file__).resolve().parent / "board_files"
    return installed if installed.is_dir() else ROOT / "boards"


BOARDS_DIR = _boards_dir()

_SIZE_SUFFIX = {"KB": 1024, "MB": 1024 * 1024}


def flash_bytes(size):
    """'4MB' (esptool's spelling) -> 4194304."""
    return int(size[:-2]) * _SIZE_SUFFIX[size[-2:]]


def _int(value):
    return None if value is None else int(value, 0)


@dataclass(frozen=True)
class Filesystem:
    """A LittleFS2 region of flash; block_count * block_size must equal size."""

    offset: int
    size: int
    block_size: int
    block_count: int

    @classmethod
    def from_json(cls, d):
        fs = cls(_int(d["offset"]), _int(d["size"]), d["block_size"], d["block_count"])
        if fs.block_size * fs.block_count != fs.size:
            raise ValueError(f"filesystem size {fs.size:#x} is not block_size * block_count")
        return fs

    def to_json(self):
        return {
            "type": "littlefs2",
            "offset": f"{self.offset:#x}",
            "size": f"{self.size:#x}",
            "block_size": self.block_size,
            "block_count": self.block_count,
        }


@dataclass(frozen=True)
class Board:
    name: str
    directory: Path
    port: str
    chip: str | None
    mpy_cross_arch: str | None
    flash_size: str | None
    firmware_offset: int | None
    app_offset: int | None
    partition_table: Path | None
    partition_table_offset: int | None
    filesystem: Filesystem | None

    @property
    def flashable(self):
        return self.chip is not None


def load(name, boards_dir=BOARDS_DIR):
    """The board called `name`; ValueError naming the known boards when there is none."""
    directory = Path(boards_dir) / name
    path = directory / BOARD_FILE
    if not path.is_file():
        raise ValueError(f"unknown board {name!r} (known: {', '.join(names(boards_dir))})")
    d = json.loads(path.read_text())
    if d["name"] != name:
        raise ValueError(f"{path}: name {d['name']!r} does not match its directory")
    return Board(
        name=name,
        directory=directory,
        port=d["port"],
        chip=d["chip"],
        mpy_cross_arch=d["mpy_cross_arch"],
        flash_size=d["flash_size"],
        firmware_offset=_int(d["firmware_offset"]),
        app_offset=_int(d["app_offset"]),
        partition_table=directory / d["partition_table"] if d["partition_table"] else None,
        partition_table_offset=_int(d["partition_table_offset"]),
        filesystem=Filesystem.from_json(d["filesystem"]) if d["filesystem"] else None,
    )


def names(boards_dir=BOARDS_DIR):
    return sorted(p.parent.name for p in Path(boards_dir).glob(f"*/{BOARD_FILE}"))


def main(argv=None):
    """`python -m ember_host.boards [NAME FIELD]`: list boards, or print one field."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("\n".join(names()))
        return 0
    name, field = args
    try:
        value = getattr(load(name), field)
    except ValueError as e:
        print(f"ember_host.boards: {e}", file=sys.stderr)
        return 2
    print("" if value is None else value)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
