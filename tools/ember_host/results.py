"""The results file: one record per unit, appended as soon as it is known, read back to resume.

A batch gets interrupted (Ctrl-C, a cable, a power cut): every unit finished before stays on
record, the same command run again skips the rows recorded ok, and nothing is ever overwritten.
Earlier records also hold the names and MACs already given out: a batch may not reuse them.
"""

import csv
import io
import os
import threading
from pathlib import Path

from .target import ProvisionError

FIELDS = ["csv", "row", "status", "port", "device_id", "mac", "hostname", "image_sha256", "error"]


class AlreadyProvisioned(ProvisionError):
    """The unit on the port is one already provisioned: nobody has swapped it yet."""


class Ledger:
    """The records of one results file, for the batch from one CSV."""

    def __init__(self, path, csv_path):
        self.path = Path(path)
        self.csv_path = csv_path  # as given, for messages
        self.csv = str(Path(csv_path).resolve())  # which CSV a record's row number belongs to
        self.done = {}  # row -> device_id, for this CSV's rows recorded ok
        self.taken = {}  # device_id, hostname or MAC -> where it was given out
        self._lock = threading.Lock()
        self._fd = None
        if self.path.exists():
            self._read()

    def _read(self):
        try:
            rows = list(csv.reader(io.StringIO(self.path.read_text(), newline="")))
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise ProvisionError(f"{self.path}: {e}") from None
        if rows and rows[0] != FIELDS:
            raise ProvisionError(
                f"{self.path}: not an ember-provision results file (header not "
                f"{','.join(FIELDS)}): give another --results"
            )
        for n, cells in enumerate(rows[1:], 2):
            if len(cells) != len(FIELDS):
                raise ProvisionError(f"{self.path} row {n}: {len(cells)} cells, not {len(FIELDS)}")
            rec = dict(zip(FIELDS, cells, strict=True))
            if rec["status"] != "ok":
                continue
            if rec["csv"] == self.csv:
                self.done[int(rec["row"])] = rec["device_id"]
            for key in ("device_id", "hostname", "mac"):
                self.taken[rec[key]] = f"{self.path} row {n}"

    def plan(self, units):
        """The units still to do; ProvisionError naming every row that clashes with a record."""
        todo, problems = [], []
        for unit in units:
            at = f"{self.csv_path} row {unit.row}"
            given = unit.raw.get("device_id")
            if unit.row in self.done:
                if given not in (None, self.done[unit.row]):
                    problems.append(
                        f"{at}, column device_id: {self.path} has this row provisioned as "
                        f"{self.done[unit.row]!r}: the CSV changed since; give a new --results"
                    )
                continue
            for name, column in unit.names().items():
                if name in self.taken:
                    problems.append(
                        f"{at}, column {column}: {name!r} was provisioned already "
                        f"({self.taken[name]})"
                    )
            todo.append(unit)
        if problems:
            raise ProvisionError("\n".join(problems))
        for unit in todo:  # reserved, so a name derived from a MAC cannot take them
            for name in unit.names():
                self.taken[name] = f"row {unit.row}"
        return todo

    def claim(self, unit, mac, cfg):
        """Reserve the unit's MAC and names once known, or refuse it."""
        own = f"row {unit.row}"
        with self._lock:
            if mac in self.taken:
                raise AlreadyProvisioned(f"unit {mac} is provisioned already ({self.taken[mac]})")
            for name in {cfg["device_id"], cfg["hostname"]}:
                if self.taken.get(name, own) != own:
                    raise ProvisionError(
                        f"{name!r} (from MAC {mac}) is taken ({self.taken[name]}): "
                        f"give row {unit.row} a device_id"
                    )
            for key in (mac, cfg["device_id"], cfg["hostname"]):
                self.taken[key] = own

    def open(self):
        """Start appending; a new file gets the header."""
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size == 0:
            self._write(FIELDS)

    def close(self):
        os.close(self._fd)

    def record(self, unit, port, rec=None, error=""):
        """Append one unit's outcome, on disk before this returns; a failure frees its claim."""
        status = "failed" if error else "ok"
        row = dict(rec or {}, csv=self.csv, row=unit.row, status=status, port=port, error=error)
        with self._lock:
            self._write([row.get(f, "") for f in FIELDS])
            if error:
                own = f"row {unit.row}"
                for key in [k for k, where in self.taken.items() if where == own]:
                    del self.taken[key]

    def _write(self, cells):
        out = io.StringIO()
        csv.writer(out).writerow(cells)
        os.write(self._fd, out.getvalue().encode())  # one write: a record is never torn
        os.fsync(self._fd)
