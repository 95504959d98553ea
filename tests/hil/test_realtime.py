"""WebSocket echo, an SSE stream and a 1 MB upload, on the app's /hil/ routes."""

import hashlib
import json
import os
import time

import httpx
import pytest
from websockets.sync.client import connect

from hil_support import TIMEOUT

pytestmark = pytest.mark.usefixtures("hil_routes")


def test_websocket_echo(device, hil_report):
    url = "ws://%s:%d/hil/echo" % (device.ip, device.port)
    with connect(url, open_timeout=TIMEOUT, close_timeout=5) as ws:
        start = time.monotonic()
        for i in range(10):
            ws.send("hello %d" % i)
            assert ws.recv(timeout=TIMEOUT) == "hello %d" % i
        hil_report.timing("websocket_round_trip_mean", (time.monotonic() - start) / 10)
        blob = os.urandom(3000)
        ws.send(blob)
        assert ws.recv(timeout=TIMEOUT) == blob


def test_sse_stream(http):
    events = []
    with http.stream("GET", "/hil/events", params={"n": 5}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        event = {}
        for line in r.iter_lines():
            if not line:
                if "data" in event:
                    events.append(event)
                event = {}
                continue
            key, _, value = line.partition(": ")
            event[key] = value
    assert [(e["event"], e["id"], json.loads(e["data"])) for e in events] == [
        ("tick", str(i), {"i": i}) for i in range(1, 6)
    ]


def test_one_megabyte_upload(device, hil_report):
    body = os.urandom(1 << 20)
    start = time.monotonic()
    r = httpx.post(device.base_url + "hil/upload", content=body, timeout=120)
    seconds = time.monotonic() - start
    assert r.status_code == 200, r.text
    assert r.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    hil_report.timing("upload_1mb", seconds)
