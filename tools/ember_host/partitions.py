"""ESP-IDF partition table CSVs (the gen_esp32part.py format), parsed to check board files."""

from dataclasses import dataclass

_SUFFIX = {"K": 1024, "M": 1024 * 1024}


@dataclass(frozen=True)
class Partition:
    name: str
    type: str
    subtype: str
    offset: int
    size: int


def _number(text):
    text = text.strip()
    if text[-1:].upper() in _SUFFIX:
        return int(text[:-1], 0) * _SUFFIX[text[-1].upper()]
    return int(text, 0)


def parse_csv(text):
    """Partitions in file order. Offsets must be explicit: ember's boards state every one."""
    parts = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cols = [c.strip() for c in line.split(",")]
        if len(cols) < 5 or not cols[3]:
            raise ValueError(f"line {lineno}: expected name, type, subtype, offset, size")
        parts.append(Partition(cols[0], cols[1], cols[2], _number(cols[3]), _number(cols[4])))
    return parts


def by_name(parts, name):
    for p in parts:
        if p.name == name:
            return p
    return None
