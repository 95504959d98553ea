"""Start tests/serve_portal.py (the setup portal and its DNS responder on one loop, a stand-in
device) in the runtime EMBER_RUNTIME names, and talk to it over real sockets."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, RUNTIME, compiled_modules, free_port, unix_binary


def _command():
    script = str(ROOT / "tests" / "serve_portal.py")
    if RUNTIME == "cpython":
        env = dict(os.environ, PYTHONPATH=str(ROOT / "modules"), PYTHONUNBUFFERED="1")
        return [sys.executable, script], env
    if RUNTIME == "unix":
        binary = unix_binary()
        if binary is None:
            pytest.skip("skipped: no MicroPython unix build")
        return [str(binary), script], dict(
            os.environ, MICROPYPATH="%s:.frozen" % compiled_modules()
        )
    pytest.skip("device runtime: not in the webassembly build (no board, no UDP)")


class Portal:
    """The portal in its own process: `url`, `http_port`, `dns_port`, `folder`, `output()`,
    `saved()` (the config the stand-in device wrote, or None), `stop()`."""

    def __init__(self, folder, ap_ip="127.0.0.1", config=None):
        self.folder = folder
        if config is not None:
            (folder / "config.json").write_text(json.dumps(config))
        self.http_port = free_port()
        self.dns_port = free_port()
        cmd, env = _command()
        cmd += [str(self.http_port), str(self.dns_port), str(folder), ap_ip]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines = []
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                self.lines.append(line)
                text = self.output()
                if "DNS READY" in text and "EMBER READY" in text:
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(30) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("the portal did not start on %s:\n%s" % (RUNTIME, self.output()))
        self.url = "http://127.0.0.1:%d/" % self.http_port

    def output(self):
        return "".join(self.lines)

    def saved(self):
        path = self.folder / "saved.json"
        return json.loads(path.read_text()) if path.exists() else None

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(condition, timeout=5.0):
    """Whether `condition()` becomes true within `timeout` seconds (output is read by a thread)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def fixture():
    """A fixture for a test module (`portal = portal_support.fixture()`):
    `portal(ap_ip="127.0.0.1", config=None)` starts tests/serve_portal.py, returns a Portal."""

    @pytest.fixture
    def portal(tmp_path):
        started = []

        def start(ap_ip="127.0.0.1", config=None):
            folder = tmp_path / ("portal%d" % len(started))
            folder.mkdir()
            p = Portal(folder, ap_ip, config)
            started.append(p)
            return p

        yield start
        for p in started:
            p.stop()

    return portal
