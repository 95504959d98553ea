"""Set-Cookie values (RFC 6265), validated so a name or value cannot inject headers or attributes.

`Response.set_cookie(name, value, **options)` calls `cookie_header`; to delete a cookie, set it
with `max_age=0`. Request cookies are `req.cookies` (a dict)."""

_DAYS = "MonTueWedThuFriSatSun"
_MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec"
# Characters a token (the cookie name) may not contain, besides controls, space and DEL.
_SEPARATORS = '()<>@,;:\\"/[]?={}'


def _check_name(name):
    if not name:
        raise ValueError("empty cookie name")
    for c in name:
        if c <= " " or c >= "\x7f" or c in _SEPARATORS:
            raise ValueError("invalid cookie name %r" % name)


def _check_value(value):
    """cookie-value: cookie-octets, optionally inside one pair of double quotes."""
    inner = value
    if len(value) > 1 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
    for c in inner:
        if c <= " " or c >= "\x7f" or c in '",;\\':
            raise ValueError("invalid cookie value %r" % value)


def _check_attr(what, value):
    for c in value:
        if c < " " or c == "\x7f" or c == ";":
            raise ValueError("invalid cookie %s %r" % (what, value))


def http_date(seconds):
    """`Wdy, DD Mon YYYY HH:MM:SS GMT` for seconds since the port's epoch (`time.time()`)."""
    import time

    t = time.gmtime(int(seconds))
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[t[6] * 3 : t[6] * 3 + 3],
        t[2],
        _MONTHS[t[1] * 3 - 3 : t[1] * 3],
        t[0],
        t[3],
        t[4],
        t[5],
    )


def cookie_header(
    name,
    value,
    max_age=None,
    expires=None,
    path="/",
    domain=None,
    secure=False,
    http_only=True,
    same_site="Lax",
):
    """The value of a Set-Cookie header; ValueError for anything that could inject.

    max_age: seconds (0 deletes).  expires: seconds since the epoch of `time.time()`, or a
    preformatted HTTP date.  same_site: "Lax", "Strict", "None" (which requires `secure`) or
    None to leave the attribute out."""
    value = str(value)
    _check_name(name)
    _check_value(value)
    parts = [name + "=" + value]
    if max_age is not None:
        parts.append("Max-Age=%d" % int(max_age))
    if expires is not None:
        if type(expires) is not str:
            expires = http_date(expires)
        _check_attr("expires", expires)
        parts.append("Expires=" + expires)
    if path:
        _check_attr("path", path)
        parts.append("Path=" + path)
    if domain:
        _check_attr("domain", domain)
        parts.append("Domain=" + domain)
    if same_site is not None:
        if same_site not in ("Lax", "Strict", "None"):
            raise ValueError("same_site must be Lax, Strict or None")
        if same_site == "None" and not secure:
            raise ValueError('same_site="None" requires secure=True')
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    if same_site is not None:
        parts.append("SameSite=" + same_site)
    return "; ".join(parts)
