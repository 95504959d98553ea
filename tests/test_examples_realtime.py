"""examples/sse.py, examples/websocket_echo.py and examples/spa, run unchanged through real
clients; and the code in docs/realtime.md is the code of those examples."""

import asyncio
import gzip
import re
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from conftest import RUNTIME

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration
no_wasm_files = pytest.mark.skipif(
    RUNTIME == "wasm",
    reason="the webassembly bridge copies only modules/ and the app file into MicroPython's "
    "filesystem: examples/ and the SPA's assets are not there",
)


@no_wasm_files
def test_sse_example(serve):
    app = serve("example_sse")
    with httpx.stream("GET", app.url + "/events", headers={"Last-Event-ID": "9"}, timeout=10) as r:
        assert r.headers["content-type"] == "text/event-stream"
        lines = r.iter_lines()
        got = [next(lines) for _ in range(5)]
        assert got[:2] == ["retry: 2000", ""]
        assert got[2:] == ["event: tick", "id: 10", 'data: {"count": 10}']
        assert httpx.get(app.url + "/listeners", timeout=10).json() == {"now": 1}
    deadline = time.monotonic() + 5
    while (
        httpx.get(app.url + "/listeners", timeout=10).json()["now"] and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert httpx.get(app.url + "/listeners", timeout=10).json() == {"now": 0}


@no_wasm_files
def test_websocket_example_echo_and_chat(serve):
    app = serve("example_websocket")
    base = "ws://127.0.0.1:%d" % app.port

    async def go():
        async with connect(base + "/echo") as ws:
            await ws.send("ping")
            assert await ws.recv() == "ping"
        a = await connect(base + "/chat")
        b = await connect(base + "/chat")
        await a.send("hi from a")
        assert await a.recv() == "hi from a"
        assert await b.recv() == "hi from a"
        await b.close()
        await a.send("b left")  # the room no longer holds b
        assert await a.recv() == "b left"
        await a.close()

    asyncio.run(asyncio.wait_for(go(), 30))


@no_wasm_files
def test_spa_assets_api_events_websocket(serve):
    app = serve("examples/spa/app")
    with httpx.Client(base_url=app.url, timeout=10) as c:
        r = c.get("/")  # httpx accepts gzip: the .gz goes out as is and httpx inflates it
        assert r.status_code == 200
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["content-type"].startswith("text/html")
        assert r.content == (ROOT / "examples/spa/src/index.html").read_bytes()
        r = c.get("/app.js")
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.content == (ROOT / "examples/spa/src/app.js").read_bytes()
        assert c.get("/api/state").json() == {"led": False, "clicks": 0}
        assert c.post("/api/led", json={"on": True}).json() == {"led": True, "clicks": 1}
        with c.stream("GET", "/events") as r:
            lines = r.iter_lines()
            assert [next(lines) for _ in range(3)] == [
                "event: state",
                "id: 1",
                'data: {"led": true, "clicks": 1}',
            ]

    async def go():
        async with connect("ws://127.0.0.1:%d/ws" % app.port) as ws:
            await ws.send("hi")
            assert await ws.recv() == "echo: hi"

    asyncio.run(asyncio.wait_for(go(), 30))


def test_spa_assets_are_built_from_src():
    """www/*.gz are build_assets.py's output for the current src/ (rerun it after editing)."""
    sys.path.insert(0, str(ROOT / "examples" / "spa"))
    try:
        import build_assets
    finally:
        sys.path.pop(0)
    assert build_assets.build(check=True) == []
    for gz in (ROOT / "examples/spa/www").iterdir():
        assert (
            gzip.decompress(gz.read_bytes()) == (ROOT / "examples/spa/src" / gz.stem).read_bytes()
        )


def test_docs_code_is_the_examples_code():
    """Every ```python block in docs/realtime.md appears verbatim in an examples/ file, so the
    documented code is the code these tests run."""
    doc = (ROOT / "docs" / "realtime.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert len(blocks) >= 3
    sources = [p.read_text() for p in (ROOT / "examples").rglob("*.py")]
    for block in blocks:
        assert any(block in src for src in sources), block
