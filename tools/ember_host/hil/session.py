"""One HIL session: provision the target, power it on, wait for the ready line; the device the
suite talks to; the JSON report of timings and heap figures written at the end."""

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .console import Console, parse

# The runtime's ready line, or the line saying it went to setup mode instead (then it never
# serves: no use waiting out the timeout).
READY_OR_SETUP = r"ember: (ready|setup) "
# Lines that make a device that then says ready not the one to test: it crashed on the way (and
# was reset), serves without its app (safe mode), or serves another app than the one provisioned.
TROUBLE = re.compile(r"ember: (error|safe-mode|app-fallback) |Traceback \(most recent call last\)")


def first_trouble(console, since, until=None):
    """The first TROUBLE line between console positions `since` and `until`, or None."""
    return next((t for _, t in console.lines[since:until] if TROUBLE.search(t)), None)


class NotReady(AssertionError):
    """The device did not come up as provisioned: the message quotes the console since reset."""


@dataclass
class Device:
    """What the `device` fixture yields: where the device serves, its console, its secret."""

    target: object  # targets.EspTarget or targets.VirtualTarget
    console: Console
    secret: str
    base_url: str = ""
    ip: str = ""
    port: int = 0
    id: str = ""
    version: str = ""
    ready_at: int = 0  # console position of the latest ready line

    @property
    def board(self):
        return self.target.name

    @property
    def virtual(self):
        return self.target.virtual

    def reset(self):
        """A hard reset: RTS/DTR on a real board, a power cycle of the virtual one."""
        self.target.power_on(self.console)

    @property
    def log(self):
        """The serial log so far."""
        return self.console.text()

    @property
    def auth(self):
        """Headers that pass the admin endpoints' check."""
        return {"Authorization": "Bearer " + self.secret}

    def wait_ready(self, timeout, after=0):
        """Wait for a ready line at or after console position `after` and take the address and
        identity from it; seconds waited. A setup line instead fails at once, and so does a ready
        line after trouble (TROUBLE), each with the console since `after`."""
        start = time.monotonic()
        pos, m = self.console.expect(READY_OR_SETUP, timeout, after)
        text = self.console.lines[pos][1]
        line = parse(text)
        if m.group(1) == "setup":
            raise NotReady(f"setup mode instead of serving: {text}\n{self.console.text(after)}")
        trouble = first_trouble(self.console, after, pos)
        if trouble:
            raise NotReady(f"ready after {trouble}\n{self.console.text(after)}")
        url = re.fullmatch(r"http://([^:/]+):(\d+)/", line.args[0] if line.args else "")
        if not url or "id" not in line.fields or "version" not in line.fields:
            raise NotReady(f"a ready line not in the documented format: {text}")
        self.ip, self.port = url.group(1), int(url.group(2))
        self.base_url = url.group(0)
        self.id, self.version = line.fields["id"], line.fields["version"]
        self.ready_at = pos
        return time.monotonic() - start


@dataclass
class Report:
    """Figures a run records (timings in seconds, heap in bytes) and each test's outcome, written
    as JSON beside the JUnit XML."""

    board: str
    timings: dict = field(default_factory=dict)
    heap: dict = field(default_factory=dict)
    device: dict = field(default_factory=dict)
    tests: list = field(default_factory=list)

    def timing(self, name, seconds):
        self.timings[name] = round(seconds, 4)

    def heap_figure(self, name, nbytes):
        self.heap[name] = nbytes

    def write(self, path):
        outcomes = {}
        for t in self.tests:
            outcomes[t["outcome"]] = outcomes.get(t["outcome"], 0) + 1
        data = {
            "board": self.board,
            "device": self.device,
            "summary": outcomes,
            "timings_s": self.timings,
            "heap_bytes": self.heap,
            "tests": self.tests,
        }
        Path(path).write_text(json.dumps(data, indent=2) + "\n")


class Session:
    """Start the device once for the whole test session; the console stays open until the end."""

    def __init__(self, target, settings, artifacts, timeout, flash=True, files=None):
        self.target, self.settings, self.timeout, self.flash = target, settings, timeout, flash
        self.files = files
        self.artifacts = Path(artifacts)
        self.report = Report(target.name)
        self.console = None
        self.device = None
        self.started = time.monotonic()

    def start(self, step=None):
        self.artifacts.mkdir(parents=True, exist_ok=True)
        if self.flash or self.target.virtual:
            t = time.monotonic()
            record = self.target.provision(self.settings, self.files, step=step)
            self.report.timing("provision", time.monotonic() - t)
            self.report.device.update({k: record[k] for k in ("mac", "hostname") if record[k]})
        self.console = self.target.console()
        self.device = Device(self.target, self.console, self.settings["admin_secret"])
        self.target.power_on(self.console)
        self.report.timing("power_on_to_ready", self.device.wait_ready(self.timeout))
        self.report.device.update(
            {"id": self.device.id, "version": self.device.version, "ip": self.device.ip}
        )
        return self.device

    def save_log(self, name, since=0):
        """Write the console log from position `since` to the artifacts folder; its path."""
        path = self.artifacts / name
        path.write_text(self.console.text(since))
        return path

    def close(self):
        if self.console is not None:
            self.save_log(f"serial-{self.target.name}.log")
            self.console.close()
        self.target.close()
