"""App.run as a user runs it in a terminal or at the REPL: serves, and stops on Ctrl-C (SIGINT)
with one line, not a traceback."""

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from conftest import RUNTIME, ROOT, free_port, micropython_command, wait_get

pytestmark = [pytest.mark.integration, pytest.mark.listener]

APP = """
import ember
app = ember.App()
app.get("/")(lambda req: "up")


@app.get("/spin")
def spin(req):  # busy for a while in a connection's worker: Ctrl-C lands in it
    import time

    end = time.time() + 2
    while time.time() < end:
        pass
    return "spun"


app.run("127.0.0.1", {port})
"""


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "in-a-handler"])
def test_ctrl_c_stops_run_with_one_line(tmp_path, busy):
    port = free_port()
    script = tmp_path / "main.py"
    script.write_text(APP.format(port=port))
    if RUNTIME == "unix":
        cmd, env = micropython_command(script)
    else:
        # A background job's SIGINT may be ignored, and the child would inherit that: restore it.
        prelude = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        cmd = [sys.executable, "-c", prelude + f"exec(open({str(script)!r}).read())"]
        env = {"PYTHONPATH": str(ROOT / "modules")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_get(f"http://127.0.0.1:{port}/").text == "up"
        if busy:  # the interrupt arrives while a worker runs the handler
            spinner = threading.Thread(target=get_quietly, args=(f"http://127.0.0.1:{port}/spin",))
            spinner.start()
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        if busy:
            spinner.join()
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert out.decode().splitlines()[-1] == "ember: stopped"
    assert b"Traceback" not in out


def get_quietly(url):
    try:
        httpx.get(url, timeout=10)
    except httpx.TransportError:  # the server stopped under it: what the test is about
        pass
