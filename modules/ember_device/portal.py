"""Setup mode's web side: the setup page, the captive-portal redirects, and the form that writes
the device's config. Imported only in setup mode (its heap is the board's, ~30 KB on ESP8266).

`setup_app(device)` returns the `ember.App` the runtime serves on the soft AP. The device object
(made by `ember_device.runtime`) provides:

    device.config            the current config (a dict) or None. With one, its admin_secret
                             must be given to change anything, and empty secret fields keep it.
                             It may be one that failed validation, as read from flash: its
                             secret still guards it, and only its valid fields are kept.
    device.scan()            [(ssid, rssi, secured)], strongest first: ssid str (bytes are
                             decoded), rssi dBm int, secured bool. Blocks the loop while it scans.
    device.save_config(cfg)  writes a validated config atomically (OSError if it cannot)
    device.reboot(reason)    resets the board ("setup-saved" here) once the current response
                             has had time to go out: it returns at once
    device.ap_ip             the soft AP's address, e.g. "192.168.4.1"
    device.device_id         shown on the page, as is
    device.firmware          the firmware version, shown on the page

Routes:
    GET /            the page: a gzipped constant (ember_device.setup_page, frozen into flash);
                     its script reads GET /setup.json and posts the form with fetch.
    GET /setup.json  {"device_id", "firmware", "secret_required", "networks": [[ssid, rssi,
                     secured]], "values": the current non-secret fields}; every load rescans.
    POST /           the form, urlencoded: wifi_ssid, wifi_password, wifi_open (any value:
                     an open network, empty password), admin_secret, device_id, hostname, and
                     current_secret when a config exists. A field left out keeps its current
                     value; emptied, a secret keeps it too and any other field is cleared (its
                     default). Answers JSON: 200 {"saved": true, "ssid"} and the reboot; 400
                     {"errors": {field: message}} from `ember_device.config.validate`; 403
                     {"errors": {"current_secret": ...}}; 500 when the config could not be
                     written. No answer holds a secret.
    anything else    302 to http://<ap ip>[:port]/ : the OS connectivity probes (/generate_204,
                     /hotspot-detect.html, /connecttest.txt, ...) get this instead of their
                     expected answer, which makes the phone or laptop show the page. A request
                     for another host name (the DNS responder sent it here) is redirected too,
                     so the page always runs from the AP's own address.
"""

from ember import App, Response, redirect
from ember.auth import equal

from . import config
from .setup_page import PAGE

# The form's config fields. One left out keeps the current value; emptied, a secret keeps it too,
# any other field is cleared.
_FIELDS = ("wifi_ssid", "wifi_password", "admin_secret", "device_id", "hostname")
_SHOWN = ("wifi_ssid", "device_id", "hostname")  # current values the page may show
_PAGE_HEADERS = {"Content-Encoding": "gzip", "Cache-Control": "no-store"}


def setup_app(device, port=None):
    """The portal app for `device`. `port`: where it is served, for the redirects; None: the
    port the app listens on (80 when it is not listening: in-process tests)."""
    # Three slots (the page, its fetch, an OS probe), short timeouts: a phone opens probe
    # connections and may leave them open, and each slot costs ~2 KB of a small heap.
    app = App(max_connections=3, max_body=1024, header_timeout=5, idle_timeout=5)
    ours = device.ap_ip
    ours_with_port = ours + ":"

    def home():
        where = port or (app.server.port if app.server is not None else 80)
        return redirect("http://%s/" % ours if where == 80 else "http://%s:%d/" % (ours, where))

    @app.before_request
    def elsewhere(req):
        host = req.headers.get("host")
        if host is not None and host != ours and not host.startswith(ours_with_port):
            return home()

    @app.errorhandler(404)
    def probe(req, exc):
        return home()

    @app.get("/")
    def page(req):
        # Streamed with its length: written straight from the constant (in flash when frozen),
        # where a bytes body would be copied into one block with the head (3 KB of heap).
        headers = dict(_PAGE_HEADERS)
        headers["Content-Length"] = str(len(PAGE))
        return Response(iter((PAGE,)), 200, headers, "text/html; charset=utf-8")

    @app.get("/setup.json")
    def state(req):
        return _state(device)

    @app.post("/")
    async def save(req):
        status, body = _submit(device, await req.form())
        if status == 200:
            device.reboot("setup-saved")
        return body, status

    return app


def _state(device):
    current = device.config
    networks = []
    try:
        found = device.scan()
    except OSError:  # the radio was busy: the page offers a rescan
        found = ()
    for ssid, rssi, secured in found:
        if type(ssid) is not str:
            try:
                ssid = ssid.decode()
            except UnicodeError:  # not UTF-8: not a name the form could send back
                continue
        networks.append((ssid, rssi, bool(secured)))
    values = {}
    if current:
        for key in _SHOWN:
            if current.get(key) is not None:
                values[key] = current[key]
    return {
        "device_id": device.device_id,
        "firmware": device.firmware,
        "secret_required": config.secret(device.config) is not None,
        "networks": networks,
        "values": values,
    }


def _submit(device, form):
    """(status, JSON body) for a posted form; saves the config when it is valid."""
    current = device.config
    secret = config.secret(device.config)
    if secret is not None and not equal(form.get("current_secret") or "", secret):
        return 403, {"errors": {"current_secret": "does not match the admin secret"}}
    raw = {}
    if current:  # each current field that is valid on its own (http_port is not in the form)
        for key in config.FIELDS:
            value = current.get(key)
            if value is not None and not config.FIELDS[key][2](value):
                raw[key] = value
    for key in _FIELDS:
        value = form.get(key)
        if value:
            raw[key] = value
        elif value is not None and key not in config.SECRETS:
            raw.pop(key, None)  # emptied: the default, or "is required"
    if form.get("wifi_open"):
        raw["wifi_password"] = ""
    try:
        cfg = config.validate(raw)
    except config.ConfigError as e:
        errors = {}
        for field, message in e.errors:
            errors[field] = message  # messages name the rule, never the value
        return 400, {"errors": errors}
    try:
        device.save_config(cfg)
    except OSError as e:
        return 500, {"errors": {"config": "could not be written (%s)" % e}}
    return 200, {"saved": True, "ssid": cfg["wifi_ssid"]}
