"""HTTP Basic and bearer-token authentication, as handler decorators or before-request checks.

    @app.get("/admin")
    @basic_auth({"admin": "secret"})            # or basic_auth(check), check(user, password)
    def admin(req): return "hello " + req.user

    @app.get("/api")
    @bearer_token(["t0ken"])                    # or bearer_token(check), check(token)
    def api(req): ...

Failures answer 401 with `WWW-Authenticate` (malformed headers and bad base64 too); secrets are
compared in constant time. `check` may be `def` or `async def` and returns a true value to
accept. `req.user` is the user name (Basic) or what `check` returned (bearer; the token with a
list)."""

from .http import HTTPError


def equal(a, b):
    """Constant-time comparison of two str/bytes (its time depends only on len(a))."""
    if type(a) is str:
        a = a.encode()
    if type(b) is str:
        b = b.encode()
    diff = len(a) ^ len(b)
    if not b:
        b = b"\0"  # still loop over all of `a`
    n = len(b)
    for i in range(len(a)):
        diff |= a[i] ^ b[i % n]
    return diff == 0


def _credentials(req, scheme):
    """The credentials after `scheme` in the Authorization header (bytes), or None."""
    value = req.raw_headers.get(b"authorization")
    if value is None:
        return None
    space = value.find(b" ")
    if space < 0 or value[:space].lower() != scheme:
        return None
    return value[space + 1 :].strip()


async def _call(check, *args):
    from .dispatch import awaited

    return await awaited(check(*args))


async def check_basic(req, users, realm="ember"):
    """The user name of valid Basic credentials, else raise 401. `users`: {name: password} or
    `check(user, password)`."""
    creds = _credentials(req, b"basic")
    user = None
    if creds:
        import binascii

        try:
            decoded = binascii.a2b_base64(creds).decode()
        except MemoryError:
            raise
        except Exception:  # bad base64 or UTF-8 (a plain Exception on some ports' binascii)
            decoded = ""
        colon = decoded.find(":")
        if colon > 0:
            name = decoded[:colon]
            password = decoded[colon + 1 :]
            if callable(users):
                if await _call(users, name, password):
                    user = name
            else:
                expected = users.get(name)
                # Compare with something even for an unknown user: the time must not tell.
                ok = equal(password, expected if expected is not None else "\0" + password)
                if ok and expected is not None:
                    user = name
    if user is None:
        challenge = 'Basic realm="%s", charset="UTF-8"' % realm
        raise HTTPError(401, None, {"WWW-Authenticate": challenge})
    req.user = user
    return user


async def check_bearer(req, tokens, realm="ember"):
    """What identifies a valid bearer token, else raise 401. `tokens`: a list/tuple/set of
    accepted tokens or `check(token)`."""
    creds = _credentials(req, b"bearer")
    user = None
    if creds:
        try:
            token = creds.decode()
        except UnicodeError:
            token = ""
        if token and callable(tokens):
            user = await _call(tokens, token) or None
        elif token:
            for t in tokens:  # every token is compared: no early exit
                if equal(token, t):
                    user = t
    if user is None:
        challenge = 'Bearer realm="%s"' % realm
        if creds is not None:
            challenge += ', error="invalid_token"'
        raise HTTPError(401, None, {"WWW-Authenticate": challenge})
    req.user = user
    return user


def _decorator(checker, secrets, realm):
    def decorate(handler):
        async def wrapped(req, **params):
            await checker(req, secrets, realm)
            from .dispatch import awaited

            return await awaited(handler(req, **params))

        return wrapped

    return decorate


def basic_auth(users, realm="ember"):
    """Decorator: the handler runs only for valid HTTP Basic credentials."""
    return _decorator(check_basic, users, realm)


def bearer_token(tokens, realm="ember"):
    """Decorator: the handler runs only for a valid `Authorization: Bearer` token."""
    return _decorator(check_bearer, tokens, realm)
