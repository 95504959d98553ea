"""A server under test as a child process, its output read line by line as it comes: the harness
waits for the line that says it listens, and a test asks what it has printed so far. No pytest
here: bench/fuzz.py starts its target with it too."""

import subprocess
import threading
import time


class ServerProcess:
    """`cmd` started with `env` (None: this process's environment), stdout and stderr read into
    `lines` by a thread. `ready` are the starts of the lines that say it is up (all of them must
    come): `wait_ready()` waits for them, or for the process to end; `proc` is the Popen."""

    def __init__(self, cmd, env=None, ready=("EMBER READY",)):
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines = []
        self._ready = threading.Event()
        threading.Thread(target=self._pump, args=(set(ready),), daemon=True).start()

    def _pump(self, waiting):
        for line in self.proc.stdout:
            self.lines.append(line)
            waiting = {start for start in waiting if not line.startswith(start)}
            if not waiting:
                self._ready.set()
        self._ready.set()  # it ended: no one waits the full timeout for a line that cannot come

    def wait_ready(self, timeout=30):
        """Whether the ready lines came within `timeout` seconds and the process still runs."""
        return self._ready.wait(timeout) and self.alive()

    def require_ready(self, failure, timeout=30):
        """Wait for the ready lines; without them, stop the process and raise RuntimeError
        with `failure` and what it printed."""
        if not self.wait_ready(timeout):
            self.stop()
            raise RuntimeError(f"{failure}:\n{self.output()}")

    def output(self):
        return "".join(self.lines)

    def printed(self, text, timeout=5):
        """Whether `text` shows up in the output within `timeout` seconds (it is read by a
        thread, so a line the server has just written may not be here yet)."""
        end = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return True

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Terminate it, and kill it if it has not ended 5 s later."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
