"""The freeze check passes on the real tree and fails on modules ESP32/ESP8266 firmware rejects."""

import io
import json
import subprocess
import sys

import pytest

from ember_host.freezecheck import run
from ember_host.mpcompat import check_source

from conftest import ROOT


def freeze_check(tmp_path, source, budget=100_000):
    """Run the check on a manifest that freezes one module with `source`; (problems, output)."""
    (tmp_path / "app.py").write_text(source)
    manifest = 'include("$(MPY_DIR)/extmod/asyncio")\nmodule("app.py")\n'
    (tmp_path / "manifest.py").write_text(manifest)
    limits = {"xtensawin": budget, "xtensa": budget}
    (tmp_path / "budget.json").write_text(json.dumps(dict(limits, ember_device=limits)))
    out = io.StringIO()
    problems = run(tmp_path / "manifest.py", tmp_path / "budget.json", out)
    return problems, out.getvalue()


def test_real_tree_passes():
    proc = subprocess.run(
        [sys.executable, "-m", "ember_host.freezecheck"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ember/app.py" in proc.stdout and "0 problem(s)" in proc.stdout


def test_good_module_passes(tmp_path):
    problems, out = freeze_check(tmp_path, "import asyncio, json\nprint(b'a=b'.split(b'='))\n")
    assert problems == 0, out
    assert "app.py" in out and "total" in out


@pytest.mark.parametrize(
    "source, complaint",
    [
        ("match 1:\n    case 1:\n        pass\n", "mpy-cross -march=xtensawin rejects app.py"),
        ("import typing\n", "imports 'typing'"),
        ("from dataclasses import dataclass\n", "imports 'dataclasses'"),
        ("x = 'a'.ljust(3)\n", ".ljust() is not a str/bytes method"),
        ("from asyncio import Queue\n", "asyncio.Queue does not exist"),
        ("x = b'a=b'.split(b'=', maxsplit=1)\n", "takes no keyword arguments"),
        (
            "@app.get('/')\ndef tick(req):\n    yield 'a'\n",
            "app.py:2: handler tick() is a generator function",
        ),
    ],
)
def test_bad_module_fails(tmp_path, source, complaint):
    problems, out = freeze_check(tmp_path, source)
    assert problems > 0
    assert complaint in out, out


def test_over_budget_fails(tmp_path):
    problems, out = freeze_check(tmp_path, "x = 1\n", budget=10)
    assert problems == 2  # one per architecture
    assert "over the budget of 10" in out


def test_esp8266_lacks_partition_esp32_has_it():
    source = "k, _, v = b'a=b'.partition(b'=')\n"
    assert check_source(source, "m.py", "ESP32") == []
    assert check_source(source, "m.py", "ESP8266") == [
        "m.py:1: .partition() is not a str/bytes method in MicroPython (ESP8266)"
    ]


def test_cpython_only_code_is_not_checked():
    source = (
        "from .runtime import MICROPYTHON\n"
        "if MICROPYTHON:\n    import gc\nelse:\n    import traceback\n"
        "try:\n    from ember_build import VERSION\nexcept ImportError:\n    VERSION = None\n"
        "def _accept_cpython():\n    import asyncio\n    return asyncio.get_running_loop()\n"
    )
    assert check_source(source, "m.py", "ESP8266") == []
    assert check_source("import traceback\n", "m.py", "ESP32") != []


def test_a_handler_returning_a_generator_is_fine():
    source = (
        "@app.get('/')\ndef ok(req):\n    def gen():\n        yield 'a'\n"
        "    return Response(gen())\n"
        "@app.get('/a')\nasync def ok2(req):\n    return 1\n"
        "def helper():\n    yield 1\n"
    )
    assert check_source(source, "m.py", "ESP32") == []
