"""A batch on a station: one worker per serial port, every port at once, a live line per port.

Rows with a port wait for that port; the rest go to whichever port is free. A port stops at its
first failure (that unit needs a hand), or when the unit on it is one already provisioned (it has
not been swapped yet); the other ports carry on. Ctrl-C lets each port record the unit it is on.
"""

import sys
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from . import device
from .results import AlreadyProvisioned
from .target import ProvisionError


class Progress:
    """One line per port: redrawn in place on a terminal, else printed whenever it changes."""

    def __init__(self, ports, out, err):
        self.lines = dict.fromkeys(ports, "waiting")
        self.out, self.err = out, err
        self.live = err.isatty()
        self.width = max(map(len, ports))
        self.drawn = False
        self._lock = threading.Lock()

    def show(self, port, text):
        with self._lock:
            self.lines[port] = text
            if self.live:
                self._draw()
            else:
                print(f"{port}: {text}", file=self.err, flush=True)

    def log(self, line):
        """A unit's outcome, on stdout above the live lines."""
        with self._lock:
            if self.drawn:  # cursor to the block's first line, clear to the end of the screen
                self.err.write(f"\x1b[{len(self.lines)}F\x1b[J")
                self.err.flush()
                self.drawn = False
            print(line, file=self.out, flush=True)
            if self.live:
                self._draw()

    def _draw(self):
        if self.drawn:
            self.err.write(f"\x1b[{len(self.lines)}F")
        for port, text in self.lines.items():
            self.err.write(f"\x1b[2K{port:<{self.width}}  {text}\n")
        self.err.flush()
        self.drawn = True


def run(target, units, ports, ledger, www=None, baud=460800, fs_only=False):
    """Provision `units` on `ports`, one worker each; returns (ok, failed, left, interrupted)."""
    pending = list(units)
    lock = threading.Lock()
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0}
    progress = Progress(ports, sys.stdout, sys.stderr)

    def take(port):
        with lock:
            for i, unit in enumerate(pending):
                if unit.port in (None, port):
                    return pending.pop(i)

    def give_back(unit):
        with lock:
            pending.append(unit)
            pending.sort(key=lambda u: u.row)

    def work(port):
        done = 0
        while not stop.is_set() and (unit := take(port)):
            try:
                rec = device.flash_unit(
                    target,
                    unit.raw,
                    port,
                    www,
                    baud,
                    fs_only,
                    claim=lambda mac, cfg, unit=unit: ledger.claim(unit, mac, cfg),
                    step=lambda text, unit=unit: progress.show(port, f"row {unit.row} {text}"),
                )
            except AlreadyProvisioned as e:
                give_back(unit)
                progress.show(port, f"stopped after {done}: {e}; put the next unit on")
                return
            except (ProvisionError, RuntimeError) as e:
                error = "interrupted" if stop.is_set() else str(e)
                ledger.record(unit, port, error=error)
                with lock:
                    counts["failed"] += 1
                progress.log(f"FAILED row {unit.row} on {port}: {error}")
                progress.show(port, f"stopped after {done}: row {unit.row} failed")
                return
            ledger.record(unit, port, rec)
            done += 1
            with lock:
                counts["ok"] += 1
            progress.log(device.record_line(rec))
            progress.show(port, f"row {unit.row} {rec['device_id']}: ok ({done} done)")
        progress.show(port, f"{'interrupted' if stop.is_set() else 'finished'} after {done}")

    # Futures, not Thread.join: a join interrupted by Ctrl-C cannot be waited on again (3.11).
    with ThreadPoolExecutor(len(ports)) as pool:
        workers = [pool.submit(work, port) for port in ports]
        try:
            wait(workers)
        except KeyboardInterrupt:
            stop.set()  # each worker records the unit it is on, then stops
            wait(workers)
    for w in workers:
        w.result()  # a worker's own bug is raised here, not lost
    return counts["ok"], counts["failed"], len(pending), stop.is_set()
