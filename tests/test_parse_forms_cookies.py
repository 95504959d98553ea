"""Query strings, urlencoded forms, percent-decoded paths and cookies (both ways), in-process
through ember.testing.

Every case runs on CPython, MicroPython unix and webassembly (tests/inprocess.py)."""

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below

    pytestmark = pytest.mark.integration

import ember
from ember import Response
from ember.cookies import http_date
from ember.testing import TestClient, quote

app = ember.App(max_body=64)
client = TestClient(app)


def lists(multidict):
    return {k: multidict.getlist(k) for k in multidict}


@app.get("/args")
def args(req):
    return lists(req.args)


@app.get("/get")
def get_args(req):  # what `get` finds, the string looked up (or parsed, when escaped)
    return {k: req.args.get(k, "absent") for k in ("k", "", "flag", "a", "ab")}


@app.post("/form")
async def form(req):
    return lists(await req.form())


@app.get("/p/<path:rest>")
def path(req, rest):
    return {"path": req.path, "rest": rest, "cookies": req.cookies}


@app.get("/cookies")
def cookies(req):
    return req.cookies


@app.get("/px")
def px(req):  # a path that starts like /p, and is not under it
    return req.cookies


@app.get("/set")
def set_cookies(req):
    r = Response("set")
    r.set_cookie("quoted", '"a_b"', max_age=60, http_only=False)
    r.set_cookie("strict", "x", path="/p", domain="example.com", secure=True, same_site="Strict")
    r.set_cookie("cross", "y", secure=True, same_site="None")
    r.set_cookie("dated", "z", expires=0, same_site=None)
    return r


@app.get("/theme")
def theme(req):
    r = Response("ok")
    try:
        r.set_cookie("theme", req.args.get("v", ""))
    except ValueError:
        ember.abort(400, "bad cookie value")
    return r


async def case_query_strings():
    cases = (
        ("/args?a=1&a=2&b=x+y", {"a": ["1", "2"], "b": ["x y"]}),
        ("/args?q=%2B1%20%26%3D", {"q": ["+1 &="]}),
        ("/args?k=&=v&&flag", {"k": [""], "": ["v"], "flag": [""]}),
        ("/args?e=%C3%A9%e2%82%ac", {"e": ["é€"]}),
        ("/args?", {}),
        ("/args?a=1=2", {"a": ["1=2"]}),
    )
    for target, expected in cases:
        r = await client.get(target)
        assert r.status == 200 and r.json() == expected, (target, r)


async def case_get_gives_the_first_value_as_the_whole_parse_does():
    cases = (
        ("/get?k=1&k=2&ab=3", {"k": "1", "": "absent", "flag": "absent", "a": "absent", "ab": "3"}),
        ("/get?k=&=v&&flag", {"k": "", "": "v", "flag": "", "a": "absent", "ab": "absent"}),
        (
            "/get?&&a=1=2",
            {"k": "absent", "": "absent", "flag": "absent", "a": "1=2", "ab": "absent"},
        ),
        (
            "/get?a=x+y&k=%41",
            {"k": "A", "": "absent", "flag": "absent", "a": "x y", "ab": "absent"},
        ),
    )
    for target, expected in cases:
        r = await client.get(target)
        assert r.status == 200 and r.json() == expected, (target, r)
    conn = client.connect()  # not UTF-8, and nothing escaped: found, then refused
    conn.send(b"GET /get?k=\xc3( HTTP/1.1\r\nHost: x\r\n\r\n")
    r = await conn.response()
    assert (r.status, r.text) == (400, "bad query string")


async def case_bad_query_strings_are_400():
    for q in ("%zz", "a=%4", "a=%", "a=%ff", "a=%C3", "%C3%28=1"):
        r = await client.get("/args?" + q)
        assert (r.status, r.text) == (400, "bad query string"), q


async def case_forms():
    r = await client.post("/form", form=[("name", "Zoë Ö"), ("tag", "a&b"), ("tag", "c=d")])
    assert r.json() == {"name": ["Zoë Ö"], "tag": ["a&b", "c=d"]}
    r = await client.post("/form", body="a=1+2&b=%2b")
    assert r.json() == {"a": ["1 2"], "b": ["+"]}
    r = await client.post("/form", body="a=%zz")
    assert (r.status, r.text) == (400, "invalid form body")
    r = await client.post("/form", body="a=%ff%fe")
    assert r.status == 400
    r = await client.post("/form", body="a=" + "x" * 63)
    assert r.status == 413  # max_body=64
    r = await client.post("/form", body="a=" + "x" * 62)
    assert r.json() == {"a": ["x" * 62]}


async def case_paths_are_percent_decoded():
    r = await client.get("/p/a%20b/%C3%A9")
    assert r.json() == {"path": "/p/a b/é", "rest": "a b/é", "cookies": {}}
    r = await client.get("/p/x+y")  # + is a space in a query, not in a path
    assert r.json()["rest"] == "x+y"
    for bad in ("/p/%zz", "/p/%4", "/p/%ff"):
        r = await client.get(bad)
        assert (r.status, r.text) == (400, "bad percent-encoding in path"), bad


async def case_request_cookies():
    cases = (
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ('q="quoted value"', {"q": "quoted value"}),
        ("  spaced = yes ;x=1", {"spaced": "yes", "x": "1"}),
        ("novalue;=empty;ok=1", {"ok": "1"}),
        ("e=", {"e": ""}),
    )
    client = TestClient(app)  # its own, empty cookie jar
    for header, expected in cases:
        r = await client.get("/cookies", {"Cookie": header})
        assert r.json() == expected, (header, r)
    r = await client.get("/cookies", [("Cookie", "a=1"), ("Cookie", "b=2; c=3")])
    assert r.json() == {"a": "1", "b": "2", "c": "3"}  # several Cookie fields are merged


async def case_set_cookie_headers():
    jar = TestClient(app)
    r = await jar.get("/set")
    assert r.headers.getlist("Set-Cookie") == [
        'quoted="a_b"; Max-Age=60; Path=/; SameSite=Lax',
        "strict=x; Path=/p; Domain=example.com; Secure; HttpOnly; SameSite=Strict",
        "cross=y; Path=/; Secure; HttpOnly; SameSite=None",
        "dated=z; Expires=%s; Path=/; HttpOnly" % http_date(0),
    ]
    assert jar.cookies == {"quoted": '"a_b"', "strict": "x", "cross": "y", "dated": "z"}
    # Path=/p: sent to /p and below, not to /cookies nor to /px; the quotes are taken off.
    assert (await jar.get("/cookies")).json() == {"quoted": "a_b", "cross": "y", "dated": "z"}
    r = await jar.get("/p/sub")
    assert r.json()["cookies"] == {"quoted": "a_b", "strict": "x", "cross": "y", "dated": "z"}
    assert (await jar.get("/px")).json() == {"quoted": "a_b", "cross": "y", "dated": "z"}


async def case_cookie_values_that_could_inject_are_refused():
    client = TestClient(app)
    for value in ("a;b", "a b", "a,b", 'a"b', "a\\b", "\x01", "é"):
        r = await client.get("/theme?v=" + quote(value))
        assert (r.status, r.text) == (400, "bad cookie value"), value
    r = await client.get("/theme?v=dark")
    assert r.headers["Set-Cookie"] == "theme=dark; Path=/; HttpOnly; SameSite=Lax"


async def case_client_cookie_jar():
    jar = TestClient(app, cookies={"start": "1"})
    assert (await jar.get("/cookies")).json() == {"start": "1"}
    await jar.get("/theme?v=dark")
    assert (await jar.get("/cookies")).json() == {"start": "1", "theme": "dark"}
    await jar.get("/theme?v=light")  # replaced
    assert jar.cookies == {"start": "1", "theme": "light"}


if pytest is not None:
    test_case = inprocess.cases_test(globals())
