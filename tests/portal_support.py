"""Start tests/serve_portal.py (the setup portal and its DNS responder on one loop, a stand-in
device) in the runtime EMBER_RUNTIME names, and talk to it over real sockets."""

import json
import os
import sys

import pytest

from conftest import ROOT, RUNTIME, free_port, micropython_command
from process_support import ServerProcess


def _command():
    script = str(ROOT / "tests" / "serve_portal.py")
    if RUNTIME == "cpython":
        env = dict(os.environ, PYTHONPATH=str(ROOT / "modules"), PYTHONUNBUFFERED="1")
        return [sys.executable, script], env
    if RUNTIME == "unix":
        return micropython_command(script)
    pytest.skip("device runtime: not in the webassembly build (no board, no UDP)")


class Portal(ServerProcess):
    """The portal in its own process: `url`, `http_port`, `dns_port`, `folder`, `output()`,
    `saved()` (the config the stand-in device wrote, or None), `alive()`, `stop()`."""

    def __init__(self, folder, ap_ip="127.0.0.1", config=None):
        self.folder = folder
        if config is not None:
            (folder / "config.json").write_text(json.dumps(config))
        self.http_port = free_port()
        self.dns_port = free_port()
        cmd, env = _command()
        cmd += [str(self.http_port), str(self.dns_port), str(folder), ap_ip]
        super().__init__(cmd, env, ready=("DNS READY", "EMBER READY"))  # both listen
        self.require_ready("the portal did not start on %s" % RUNTIME)
        self.url = "http://127.0.0.1:%d/" % self.http_port

    def saved(self):
        path = self.folder / "saved.json"
        return json.loads(path.read_text()) if path.exists() else None


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
