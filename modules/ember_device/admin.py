"""The device endpoints, mounted under /_ember on the app (and on the setup portal): status,
reboot, and the config. Every one needs the admin secret, as a bearer token or as the password
of HTTP Basic (any user name), compared in constant time; without a provisioned secret they
answer 403, so nothing privileged is ever open."""

from ember import App
from ember.auth import check_basic, check_bearer, equal
from ember.http import HTTPError

from . import config, updates

PREFIX = "/_ember"


def endpoints(device):
    api = App()

    async def authorize(req):
        secret = config.secret(device.config)
        if not secret:
            raise HTTPError(403, "no admin secret is provisioned")
        scheme = (req.raw_headers.get(b"authorization") or b"")[:6].lower()
        if scheme == b"basic ":
            await check_basic(req, lambda _user, password: equal(password, secret))
        else:
            await check_bearer(req, [secret])

    api.before_request(authorize)

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
    return api
