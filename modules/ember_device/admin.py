"""The device endpoints, added under /_ember to the app (and to the setup portal): status,
reboot, and the config. Every one needs the admin secret, as a bearer token or as the password
of HTTP Basic (any user name), compared in constant time; without a provisioned secret they
answer 403, so nothing privileged is ever open.

They are one route of the app itself (`/_ember/<path:name>`), which checks the secret and
then finds the endpoint: on an ESP8266's heap each route, and a second App to mount, would cost
more than the whole table.
"""

from ember.auth import check_basic, check_bearer, equal
from ember.dispatch import awaited
from ember.http import HTTPError

from . import config, updates

PREFIX = "/_ember"


def install(app, device):
    """Add the device endpoints to `app`."""

    async def endpoint(req, name):
        await _authorize(req, config.secret(device.config))
        allowed = []
        for method, path, handler in _ENDPOINTS:
            if path == name:
                if method == req.method:
                    return await awaited(handler(req, device))
                allowed.append(method)
        if allowed:
            raise HTTPError(405, headers={"Allow": ", ".join(allowed)})
        raise HTTPError(404)

    app.route(PREFIX + "/<path:name>", ("GET", "POST", "PUT"))(endpoint)


async def _authorize(req, secret):
    if not secret:
        raise HTTPError(403, "no admin secret is provisioned")
    scheme = (req.raw_headers.get(b"authorization") or b"")[:6].lower()
    if scheme == b"basic ":
        await check_basic(req, lambda _user, password: equal(password, secret))
    else:
        await check_bearer(req, [secret])


def _status(req, device):
    return device.status()


def _reboot(req, device):
    device.reboot("request")
    return {"rebooting": True}, 202


def _read_config(req, device):
    return config.redacted(device.config)


async def _write_config(req, device):
    """A whole or partial config; a secret sent empty or as "***" keeps its current value. Saved
    at once, applied at the next boot (POST /_ember/reboot)."""
    new = await req.json()
    if type(new) is not dict:
        return {"errors": {"config": "must be a JSON object"}}, 400
    merged = dict(device.config)
    for key in new:
        if key in config.SECRETS and new[key] in ("", "***", None):
            continue
        merged[key] = new[key]
    try:
        device.save_config(merged)
    except config.ConfigError as e:
        return {"errors": dict(e.errors)}, 400
    return {"saved": True, "applies": "after reboot"}


# (method, path under PREFIX, handler(req, device))
_ENDPOINTS = (
    ("GET", "status", _status),
    ("POST", "reboot", _reboot),
    ("GET", "config", _read_config),
    ("PUT", "config", _write_config),
    ("POST", "firmware", updates.firmware),
    ("POST", "app", updates.app),
    ("POST", "safe-mode/exit", updates.leave_safe_mode),
)
