"""The device endpoints, added under /_ember to the app (and to the setup portal): status,
reboot, and the config. Every one needs the admin secret, as a bearer token or as the password
of HTTP Basic (any user name), compared in constant time; without a provisioned secret they
answer 403, so nothing privileged is ever open.

They are routes of the app itself, each wrapped in the secret check, rather than a mounted
sub-app: on an ESP8266's heap the second App and its mounted copies of the routes cost too much.
"""

from ember.auth import check_basic, check_bearer, equal
from ember.dispatch import awaited
from ember.http import HTTPError

from . import config, updates

PREFIX = "/_ember"


class Endpoints:
    """Adds handlers to `app` under PREFIX, each behind the admin secret (the decorators of an
    App: route, get, post, put)."""

    def __init__(self, app, device):
        self.app = app
        self.device = device

    def route(self, path, methods):
        device = self.device

        def register(handler):
            async def guarded(req, **params):
                await _authorize(req, config.secret(device.config))
                return await awaited(handler(req, **params))

            self.app.route(PREFIX + path, methods)(guarded)
            return handler

        return register

    def get(self, path):
        return self.route(path, ("GET",))

    def post(self, path):
        return self.route(path, ("POST",))

    def put(self, path):
        return self.route(path, ("PUT",))


async def _authorize(req, secret):
    if not secret:
        raise HTTPError(403, "no admin secret is provisioned")
    scheme = (req.raw_headers.get(b"authorization") or b"")[:6].lower()
    if scheme == b"basic ":
        await check_basic(req, lambda _user, password: equal(password, secret))
    else:
        await check_bearer(req, [secret])


def install(app, device):
    """Add the device endpoints to `app`."""
    api = Endpoints(app, device)

    @api.get("/status")
    def status(req):
        return device.status()

    @api.post("/reboot")
    def reboot(req):
        device.reboot("request")
        return {"rebooting": True}, 202

    @api.get("/config")
    def read_config(req):
        return config.redacted(device.config)

    @api.put("/config")
    async def write_config(req):
        """A whole or partial config; a secret sent empty or as "***" keeps its current value.
        Saved at once, applied at the next boot (POST /_ember/reboot)."""
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

    updates.routes(api, device)  # /firmware, /app, /safe-mode/exit
