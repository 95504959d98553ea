"""The device's serial console as the harness reads it: every line kept, `expect` on the stream.

A reader thread drains the port the whole session (a UART, or the virtual board's pseudo-terminal:
the same pyserial code for both), so nothing the board prints is lost while a test talks HTTP, and
the log of a failure is already on the host when the test fails. Lines are the runtime's
`ember: <event> key=value ...` lines (docs/device.md) among whatever else the board
prints (boot ROM noise, tracebacks).
"""

import re
import threading
import time
from dataclasses import dataclass, field

import serial

from ..lines import LineLog

_EVENT = re.compile(r"ember: (\S+)(?: (.*))?$")
# A key=value field followed by another field; a value that is not is the last, to end of line.
_FIELD = re.compile(r"([a-z_]+)=(\S*) (?=[a-z_]+=)")
_LAST = re.compile(r"([a-z_]+)=(.*)$")


@dataclass
class Line:
    """One `ember:` console line: its event, positional words before the first field, fields."""

    event: str
    args: list = field(default_factory=list)
    fields: dict = field(default_factory=dict)


def parse(text):
    """The Line in `text`, or None when it is not an `ember:` line.

    `ember: ready http://10.0.0.2:80/ id=unit-1 version=v1` ->
    Line("ready", ["http://10.0.0.2:80/"], {"id": "unit-1", "version": "v1"}); the last field's
    value runs to the end of the line (`reason=` may hold spaces).
    """
    m = _EVENT.search(text.rstrip("\r\n"))
    if not m:
        return None
    line, rest = Line(m.group(1)), m.group(2) or ""
    while rest and not _LAST.match(rest):
        word, _, rest = rest.partition(" ")
        line.args.append(word)
    pos = 0
    while m := _FIELD.match(rest, pos):
        line.fields[m.group(1)] = m.group(2)
        pos = m.end()
    if m := _LAST.match(rest, pos):
        line.fields[m.group(1)] = m.group(2)
    return line


class ConsoleTimeout(AssertionError):
    """What was awaited on the console did not come: the message ends with the last lines."""


class Console(LineLog):
    """Lines read from a serial port by a thread (LineLog: `lines`, `mark`, `text`, `settle`);
    `expect` waits for one after a mark, or raises ConsoleTimeout quoting the log's tail."""

    def __init__(self, port, baud=115200):
        # A device path, or a pyserial URL: rfc2217://host:port reaches a board on another
        # machine (esptool takes the same). Opened with RTS and DTR released: asserting either on
        # open would hold an auto-reset board in reset, or in its bootloader.
        self.serial = serial.serial_for_url(port, do_not_open=True)
        self.serial.baudrate, self.serial.timeout = baud, 0.1
        self.serial.rts = self.serial.dtr = False
        self.serial.open()
        super().__init__()
        self._partial = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"console {port}", daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                # One byte (waiting up to the timeout), then whatever else has arrived: lines
                # are seen as soon as they come, not when a 4 KB read fills.
                data = self.serial.read(1)
                if data:
                    data += self.serial.read(self.serial.in_waiting)
            except (serial.SerialException, OSError, TypeError):
                # The port went away (a native-USB board re-enumerating, or closed): stop reading;
                # TypeError is pyserial's read racing close().
                if not self._stop.is_set():
                    self.add([f"[console: {self.serial.port} closed]"])
                return
            if data:
                *done, self._partial = (self._partial + data).split(b"\n")
                self.add([b.rstrip(b"\r").decode("utf-8", "replace") for b in done])

    def expect(self, pattern, timeout, after=0):
        """The first line at or after position `after` that matches `pattern` (a regex searched
        in each line): (position, re.Match). Raises ConsoleTimeout with the log's tail."""
        found = self.search(pattern, timeout, after)
        if found is None:
            raise ConsoleTimeout(
                f"no line matching {pattern!r} on {self.serial.port} within {timeout:g} s;"
                f" its last lines:\n{self.text(max(after, self.mark() - self.TAIL))}"
            )
        return found

    def reset(self):
        """Reset the board through the auto-reset circuit every ESP dev board has (esptool's
        hard reset): RTS pulls EN low while DTR leaves GPIO0 high, so the chip boots its flash."""
        self.serial.dtr = False
        self.serial.rts = True
        time.sleep(0.1)
        self.serial.rts = False

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.serial.close()
