"""The batch CSV, read strictly: every row and column checked before any device is touched.

Factory input comes from spreadsheets, and their mistakes (a misspelt column, a semicolon export,
a short row, a byte-order mark) must stop the batch with the row and column named, not provision
units with half a config. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

import csv
import difflib
import io
from dataclasses import dataclass
from pathlib import Path

from .device import config
from .target import ProvisionError

PORT = "port"
COLUMNS = sorted(config.FIELDS) + [PORT]


@dataclass(frozen=True)
class Unit:
    row: int
    raw: dict  # config fields as given; empty cells left out
    port: str | None  # None: any of the station's --port ports

    def names(self):
        """{name: column} of the names given, which no other unit may have: the device_id, and
        the hostname (the device_id when left out)."""
        names = {}
        for column in ("hostname", "device_id"):
            if column in self.raw:
                names[self.raw[column]] = column
        return names


def read_units(path, have_port):
    """Every unit of the CSV at `path`; ProvisionError with one line per problem otherwise.

    `have_port`: --port was given, so rows may leave their port empty.
    """
    rows = _rows(path)
    if not rows:
        raise ProvisionError(f"{path}: empty, no header row")
    problems = _header_problems(rows[0], have_port)
    if problems:
        raise ProvisionError("\n".join(f"{path} {p}" for p in problems))
    header = [name.strip() for name in rows[0]]
    units, seen = [], {}
    for n, cells in enumerate(rows[1:], 2):
        if not any(cells):  # a blank line, or a spreadsheet's empty row
            continue
        if len(cells) != len(header):
            problems.append(f"row {n}: {len(cells)} cells, the header has {len(header)}")
            continue
        unit = _unit(n, dict(zip(header, cells, strict=True)))
        try:
            config.validate(unit.raw)
        except config.ConfigError as e:
            problems += [f"row {n}, column {field}: {msg}" for field, msg in e.errors]
        if unit.port is None and not have_port:
            problems.append(f"row {n}, column {PORT}: empty, and no --port given")
        elif unit.port is not None and unit.port != unit.port.strip():
            problems.append(f"row {n}, column {PORT}: spaces around {unit.port!r}")
        for name, column in unit.names().items():
            if name in seen:
                problems.append(f"row {n}, column {column}: {name!r} is also in row {seen[name]}")
            seen.setdefault(name, n)
        units.append(unit)
    if not units and not problems:
        raise ProvisionError(f"{path}: no units below the header")
    if problems:
        raise ProvisionError("\n".join(f"{path} {p}" for p in problems))
    return units


def _rows(path):
    try:
        # utf-8-sig: spreadsheets save "CSV UTF-8" with a byte-order mark.
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ProvisionError(f"{path}: not UTF-8 (byte {e.start}): save it as CSV UTF-8") from None
    except OSError as e:
        raise ProvisionError(f"{path}: {e.strerror}") from None
    rows = []
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), strict=True):
            rows.append(cells)
    except csv.Error as e:
        raise ProvisionError(f"{path} row {len(rows) + 1}: {e}") from None
    return rows


def _header_problems(header, have_port):
    for sep in ";\t":
        if len(header) == 1 and sep in header[0]:
            return [f"row 1: cells separated by {sep!r}: save it as comma-separated CSV"]
    if not any(name.strip() in COLUMNS for name in header):  # not echoed: may be a unit's secrets
        return [f"row 1: not a header, it names no column ({', '.join(COLUMNS)})"]
    problems, seen = [], {}
    for i, name in enumerate(header, 1):
        at = f"row 1, column {i} {name!r}"
        if not name:
            problems.append(f"row 1, column {i}: no name")
        elif name != name.strip():
            problems.append(f"{at}: spaces around the name: separate cells with ',' alone")
        elif name not in COLUMNS:
            close = difflib.get_close_matches(name.lower(), COLUMNS, 1)
            hint = f"did you mean {close[0]!r}?" if close else "columns: " + ", ".join(COLUMNS)
            problems.append(f"{at}: unknown column ({hint})")
        elif name in seen:
            problems.append(f"{at}: repeats column {seen[name]}")
        seen.setdefault(name.strip(), i)
    for field, (required, _, _) in config.FIELDS.items():
        if required and field not in seen:
            problems.append(f"row 1: no {field} column (required)")
    if PORT not in seen and not have_port:
        problems.append(f"row 1: no {PORT} column and no --port: name each unit's serial port")
    return problems


def _unit(n, row):
    raw = {k: v for k, v in row.items() if k in config.FIELDS and v != ""}
    if raw.get("http_port", "").isdigit():
        raw["http_port"] = int(raw["http_port"])
    return Unit(n, raw, row.get(PORT) or None)
