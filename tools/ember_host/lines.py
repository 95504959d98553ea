"""The lines a device prints, kept as a reader thread hands them over, and the wait for one of
them: the HIL console's (hil/console.py, a serial port) and the virtual board's captured serial
(virtual.py, a pipe) share it.

Positions are indices into `lines` (each a (seconds since start, text) pair): `mark()` before an
action, then `search(pattern, timeout, after=mark)`, so a line printed before the action cannot
match.
"""

import re
import threading
import time


class LineLog:
    TAIL = 30  # lines a caller quotes when what it awaited did not come

    def __init__(self):
        self.opened = time.monotonic()
        self.lines = []
        self._changed = threading.Condition()

    def add(self, texts):
        now = time.monotonic() - self.opened
        with self._changed:
            self.lines.extend((now, t) for t in texts)
            self._changed.notify_all()

    def mark(self):
        with self._changed:
            return len(self.lines)

    def search(self, pattern, timeout, after=0):
        """The first line at or after position `after` that matches `pattern` (a regex searched
        in each line), waiting up to `timeout` s for it: (position, re.Match), None if none came."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        checked = after
        with self._changed:
            while True:
                for pos in range(checked, len(self.lines)):
                    if m := rx.search(self.lines[pos][1]):
                        return pos, m
                checked = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def settle(self, quiet=0.1, limit=2.0):
        """Wait until no line has come for `quiet` seconds (at most `limit`): a traceback the
        board is still printing is whole in the log of the failure it explains."""
        deadline = time.monotonic() + limit
        with self._changed:
            while True:
                n = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or not self._changed.wait(min(quiet, left)) and len(self.lines) == n:
                    return

    def text(self, since=0):
        """The log from position `since`, one line per line, each with its time since start."""
        with self._changed:
            lines = self.lines[since:]
        return "".join(f"[{t:8.3f}] {text}\n" for t, text in lines)
