"""A real browser against ember: headless Chromium opens examples/spa and uses fetch,
EventSource and WebSocket. CPython runtime (the browser is the point here, not the runtime)."""

from conftest import browser_check


def test_spa_in_headless_chromium(serve):
    app = serve("examples/spa/app")
    result = browser_check("spa_check.mjs", app.url + "/")
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
