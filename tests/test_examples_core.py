"""examples/tour.py and examples/demo.py, served as they are and driven with httpx."""

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def tour(serve):
    app = serve("examples/tour")
    with httpx.Client(base_url=app.url, timeout=10) as client:
        yield client


def test_tour(tour):
    assert tour.get("/sensors/3").json() == {"sensor": 3, "value": 23.25}
    assert tour.get("/sensors/1?unit=F").json()["value"] == pytest.approx(70.7)
    r = tour.get("/sensors/9")
    assert r.status_code == 404
    assert r.json() == {"error": "no such sensor", "path": "/sensors/9"}
    assert tour.put("/sensors/9", json={"value": 5}).status_code == 204
    assert tour.get("/sensors/9").json()["value"] == 5.0
    assert tour.put("/sensors/9", content=b"x" * 5000).status_code == 413
    assert tour.post("/firmware", content=b"\0" * 100_000).json() == {"received": 100_000}
    assert tour.get("/countdown").text == "5\n4\n3\n2\n1\n"
    r = tour.get("/old")
    assert (r.status_code, r.headers["location"]) == (301, "/sensors/1")
    r = tour.get("/sensors/1", headers={"X-Maintenance": "1"})
    assert (r.status_code, r.text) == (503, "down for maintenance")


def test_demo(serve):
    app = serve("examples/demo")
    with httpx.Client(base_url=app.url, timeout=10) as client:
        assert client.get("/").text == "Hello from ember!\n"
        assert client.put("/api/state", json={"led": True}).json()["led"] is True
        assert client.get("/api/hello/ada?lang=fr").json() == {"hello": "ada", "lang": "fr"}
