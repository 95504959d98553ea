"""A real browser against ember: headless Chromium opens examples/spa and uses fetch,
EventSource and WebSocket. CPython runtime (the browser is the point here, not the runtime)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("EMBER_CHROMIUM", "/usr/bin/chromium")


def test_spa_in_headless_chromium(serve):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        pytest.skip("skipped: playwright-core not installed (npm ci)")
    app = serve("examples/spa/app")
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "browser" / "spa_check.mjs"), app.url + "/", CHROMIUM],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "error" not in result, (result, app.output())
    assert result["title"] == "ember device"
    # The pre-gzipped assets went out as gzip, and the browser decoded them.
    assert result["assets"]["/"] == {"status": 200, "encoding": "gzip"}
    assert result["assets"]["/app.js"] == {"status": 200, "encoding": "gzip"}
    checks = result["checks"]
    assert checks["fetch"] == {"led": False, "clicks": 0}
    assert int(checks["sse"]["id"]) >= 2 and checks["sse"]["data"]["clicks"] == 0
    assert checks["ws"] == "echo: hello from the browser"
    assert result["after_click"] == {"led": True, "clicks": 1}
