"""REST resources (ember.resource) against examples/rest.py, on every runtime."""

import httpx
import pytest

from conftest import raw

pytestmark = pytest.mark.integration


@pytest.fixture
def client(serve):
    app = serve("examples/rest")
    with httpx.Client(base_url=app.url, timeout=10) as c:
        c.port = app.port
        yield c


def test_crud(client):
    r = client.post("/items", json={"name": "led"})
    assert (r.status_code, r.json()) == (201, {"id": 1, "name": "led"})
    assert r.headers["content-type"] == "application/json"
    assert client.post("/items", json={"name": "fan"}).json()["id"] == 2
    assert client.get("/items/1").json() == {"id": 1, "name": "led"}
    r = client.put("/items/1", json={"name": "lamp"})
    assert r.json() == {"id": 1, "name": "lamp"}
    r = client.delete("/items/2")
    assert (r.status_code, r.content) == (204, b"")
    r = client.get("/items/2")
    assert (r.status_code, r.text) == (404, "no such item")
    assert client.head("/items/1").status_code == 200


def test_generator_method_streams(client):
    for name in ("a", "b", "c"):
        client.post("/items", json={"name": name})
    r = client.get("/items")
    assert r.status_code == 200
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.text == '{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n{"id": 3, "name": "c"}\n'


def test_missing_methods_405(client):
    r = client.post("/items/1", json={})
    assert r.status_code == 405
    assert allow(r) == {"GET", "PUT", "DELETE", "HEAD", "OPTIONS"}
    r = client.patch("/items")
    assert r.status_code == 405
    assert allow(r) == {"GET", "POST", "HEAD", "OPTIONS"}
    r = client.options("/items/1")
    assert r.status_code == 204
    assert allow(r) == {"GET", "PUT", "DELETE", "HEAD", "OPTIONS"}


def allow(r):
    return set(r.headers["allow"].split(", "))


def test_bad_input(client):
    assert client.get("/items/abc").status_code == 404  # <int:id>
    assert client.post("/items", content=b"{oops").status_code == 400
    assert client.post("/items", json=["not", "a", "dict"]).status_code == 400
    reply = raw(client.port, b"GET /items HTTP/1.0\r\n\r\n")  # streamed, close-delimited
    assert reply.startswith(b"HTTP/1.1 200") and b"chunked" not in reply
