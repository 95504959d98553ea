"""A server under measurement, as a child process: a free port, the command that starts its app,
waiting until it listens, stopping it and keeping what it printed."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from paths import APPS, ROOT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True once something LISTENs on 127.0.0.1:port (read from /proc: no probe connection)."""
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[1].endswith(":%04X" % port) and parts[3] == "0A":
                    return True
        return False
    except OSError:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            return False


class Proc:
    """The child in its own session, its output kept in a temporary file."""

    def __init__(self, cmd, env=None):
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                  env={**os.environ, **(env or {})}, start_new_session=True)

    def wait_listening(self, port, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                return False
            if listening(port):
                return True
            time.sleep(0.05)
        return False

    def alive(self):
        return self.p.poll() is None

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig=signal.SIGINT):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def start(s, port, heap=None, wrap=(), timeout=20, config="", app=None):
    """Run `app` (default: s's own) from s's binary, optionally under `wrap` (valgrind) with
    `-X heapsize=heap`, `config` passed to its main(); (Proc, listening within timeout)."""
    module = app or s.module
    cmd = list(wrap) + [str(s.binary)]
    if heap:
        cmd += ["-X", "heapsize=" + heap]
    cmd += ["-c", f"import {module}; {module}.main({port}{', ' + config if config else ''})"]
    p = Proc(cmd)
    return p, p.wait_listening(port, timeout)


def start_cpython(port, module):
    """An app on the CPython running the bench, ember from modules/."""
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "modules"), str(APPS)])}
    p = Proc([sys.executable, "-c", f"import {module}; {module}.main({port})"], env=env)
    return p, p.wait_listening(port, 20)
