"""ember and its host tools installed as a user installs them: the two wheels into a fresh venv
(the factory station's `pip install .`), and ember with the unix port's mip from a local server."""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib

import pytest

from conftest import ROOT, RUNTIME, free_port, unix_binary, wait_get

MIP_JSON = ROOT / "modules" / "package.json"
HOST_ONLY = {"testing.py"}  # the in-process test client: not for a device


def version_of(pyproject):
    return tomllib.loads(pyproject.read_text())["project"]["version"]


def test_one_version_and_every_module_in_the_mip_package():
    package = json.loads(MIP_JSON.read_text())
    assert package["version"] == version_of(ROOT / "modules" / "pyproject.toml")
    assert package["version"] == version_of(ROOT / "pyproject.toml")
    modules = sorted(
        f"ember/{p.name}"
        for p in (ROOT / "modules" / "ember").glob("*.py")
        if p.name not in HOST_ONLY
    )
    assert package["urls"] == [[m, m] for m in modules]


def run(*cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.skipif(RUNTIME != "cpython", reason="installs CPython wheels")
def test_wheels_install_into_a_fresh_venv_and_run(tmp_path):
    # Built from copies: setuptools leaves build/ and *.egg-info in the folder it builds.
    src = tmp_path / "src"
    for part in ("tools", "boards", "modules"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", src)
    wheels = tmp_path / "wheels"
    for project in (src, src / "modules"):
        run(
            sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(project)
        )
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    run(
        str(venv / "bin" / "pip"),
        "install",
        "-q",
        "--disable-pip-version-check",
        *map(str, sorted(wheels.glob("*.whl"))),
    )
    away = tmp_path / "elsewhere"  # nothing of the checkout on the path
    away.mkdir()

    # The console script, with the config schema and the board definitions from the wheel.
    assert "usage: ember-provision" in run(
        str(venv / "bin" / "ember-provision"), "--help", cwd=away
    )
    cfg = away / "device.json"
    cfg.write_text(
        json.dumps(
            {
                "wifi_ssid": "lab",
                "wifi_password": "pass-word-1",
                "admin_secret": "adm-secret-0123",
                "device_id": "unit-7",
            }
        )
    )
    run(
        str(venv / "bin" / "ember-provision"),
        "image",
        "--board",
        "EMBER_ESP8266",
        "--config",
        str(cfg),
        "--out",
        str(away / "vfs.bin"),
        cwd=away,
    )
    assert (away / "vfs.bin").stat().st_size == 763 * 4096

    # The server, imported from the venv, serving an app.
    port = free_port()
    app = away / "app.py"
    app.write_text(
        "import ember\nprint(ember.__file__, flush=True)\napp = ember.App()\n"
        "app.get('/')(lambda req: {'ok': True})\n"
        f"app.run('127.0.0.1', {port})\n"
    )
    proc = subprocess.Popen(
        [str(venv / "bin" / "python"), str(app)],
        cwd=away,
        stdout=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    try:
        assert proc.stdout.readline().startswith(str(venv))
        assert wait_get(f"http://127.0.0.1:{port}/").json() == {"ok": True}
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.integration
@pytest.mark.listener
def test_mip_installs_ember_on_micropython_and_it_serves(tmp_path):
    if RUNTIME != "unix" or unix_binary() is None:
        pytest.skip("mip runs on the unix port (EMBER_RUNTIME=unix, ./build.sh unix)")
    micropython = str(unix_binary().resolve())
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(ROOT / "modules")
    )
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    lib = tmp_path / "lib"
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/package.json"
        out = run(micropython, "-c", f"import mip; mip.install({url!r}, target={str(lib)!r})")
    finally:
        server.shutdown()
    assert "Done" in out, out
    installed = sorted(p.name for p in (lib / "ember").iterdir())
    assert installed == sorted(u[0].split("/")[1] for u in json.loads(MIP_JSON.read_text())["urls"])

    # An app on what mip installed: the installed package comes first on the path, before the
    # copy this binary has frozen in.
    port = free_port()
    script = (
        "import ember\nprint(ember.__file__)\napp = ember.App()\n"
        "app.get('/')(lambda req: 'from mip')\n"
        f"app.run('127.0.0.1', {port})\n"
    )
    proc = subprocess.Popen(
        [micropython, "-c", script],
        cwd=tmp_path,
        env={"MICROPYPATH": f"{lib}:.frozen"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == f"{lib}/ember/__init__.py"
        assert wait_get(f"http://127.0.0.1:{port}/").text == "from mip"
    finally:
        proc.kill()
        proc.wait()
