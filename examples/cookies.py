"""Cookies: a login that sets a session cookie, reading it back, deleting it; values checked.

PYTHONPATH=modules python examples/cookies.py
curl -c jar -u admin:s3cret localhost:8080/login ; curl -b jar localhost:8080/whoami"""

import binascii

import ember
from ember.auth import basic_auth

app = ember.App()
SESSIONS = {}  # token -> user name (a real device would bound this)


def new_token():
    try:
        from os import urandom

        return binascii.hexlify(urandom(16)).decode()
    except ImportError:  # ports without os.urandom
        import random

        return "%08x%08x%08x" % (random.getrandbits(32), random.getrandbits(32), len(SESSIONS))


@app.get("/login")
@basic_auth({"admin": "s3cret"})
def login(req):
    token = new_token()
    SESSIONS[token] = req.user
    r = ember.Response("logged in")
    r.set_cookie("session", token, max_age=3600)  # Path=/; HttpOnly; SameSite=Lax by default
    return r


@app.get("/whoami")
def whoami(req):
    return {"user": SESSIONS.get(req.cookies.get("session"))}


@app.get("/logout")
def logout(req):
    SESSIONS.pop(req.cookies.get("session"), None)
    r = ember.Response("bye")
    r.set_cookie("session", "", max_age=0)  # tells the browser to drop it
    return r


@app.get("/prefs")
def prefs(req):
    r = ember.Response("saved")
    try:  # a value with ; , " \ space or CR/LF could inject attributes or headers: refused
        r.set_cookie("theme", req.args.get("theme", "light"), http_only=False, expires=2e9)
    except ValueError:
        ember.abort(400, "bad cookie value")
    return r


if __name__ == "__main__":
    app.run("127.0.0.1", 8080)
