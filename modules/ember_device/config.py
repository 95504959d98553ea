"""Device configuration (/config.json): schema and validation.

One implementation for both sides: the firmware validates at boot, and the host tool
ember-provision imports this module before it writes a filesystem image.
"""

import json

from .records import write

PATH = "/config.json"

# Values that never appear in logs, records or results files.
SECRETS = ("wifi_password", "admin_secret")

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"


class ConfigError(ValueError):
    """Every problem found in one config; ``errors`` is a list of (field, message)."""

    def __init__(self, errors):
        super().__init__("; ".join("%s: %s" % e for e in errors))
        self.errors = errors


def _name(value, most):
    # A DNS label: lower-case letters, digits and '-', not at either end.
    if not isinstance(value, str) or not 1 <= len(value) <= most:
        return "must be a string of 1-%d characters" % most
    for c in value:
        if c not in _NAME_CHARS:
            return "may only contain a-z, 0-9 and '-'"
    if value[0] == "-" or value[-1] == "-":
        return "must not start or end with '-'"


def _ssid(value):
    if not isinstance(value, str) or not 1 <= len(value.encode()) <= 32:
        return "must be a string of 1-32 bytes"


def _wifi_password(value):
    # WPA2-PSK passphrase, or empty for an open network.
    if not isinstance(value, str) or not (value == "" or 8 <= len(value) <= 63):
        return "must be empty (open network) or 8-63 characters"


def _admin_secret(value):
    if not isinstance(value, str) or len(value) < 12:
        return "must be a string of at least 12 characters"


def _http_port(value):
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        return "must be an integer 1-65535"


# field: (required, default, check)
FIELDS = {
    "device_id": (False, None, lambda v: _name(v, 32)),
    "hostname": (False, None, lambda v: _name(v, 32)),  # network.hostname() takes 32 at most
    "wifi_ssid": (True, None, _ssid),
    "wifi_password": (True, None, _wifi_password),
    "admin_secret": (True, None, _admin_secret),
    "http_port": (False, 80, _http_port),
}


def validate(raw):
    """Return the config with defaults filled in, or raise ConfigError naming each bad field."""
    if not isinstance(raw, dict):
        raise ConfigError([("config", "must be a JSON object")])
    errors = []
    for key in sorted(raw):
        if key not in FIELDS:
            errors.append((key, "unknown field"))
    cfg = {}
    for key in sorted(FIELDS):
        required, default, check = FIELDS[key]
        if key not in raw or raw[key] is None:
            if required:
                errors.append((key, "is required"))
            elif default is not None:
                cfg[key] = default
            continue
        problem = check(raw[key])
        if problem:
            errors.append((key, problem))
        else:
            cfg[key] = raw[key]
    if errors:
        raise ConfigError(errors)
    return cfg


def load(path=PATH):
    """Read and validate a config file: (config, None), or (what was read, [(field, message),
    ...]) where what was read is the invalid dict, or None (no file, not JSON, not an object)."""
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError:
        return None, [("config", "%s is missing" % path)]
    except ValueError:
        return None, [("config", "%s is not valid JSON" % path)]
    try:
        return validate(raw), None
    except ConfigError as e:
        return (raw if isinstance(raw, dict) else None), e.errors


def save(cfg, path=PATH):
    """Validate `cfg` and write it so that a reset at any moment leaves the old file or the new
    one, never a torn one (`records.write`)."""
    cfg = validate(cfg)
    write(path, cfg)
    return cfg


def secret(cfg):
    """The admin secret guarding `cfg`, or None. A config that failed validation still has one:
    changing it must not be open to anyone near the setup AP."""
    value = cfg.get("admin_secret") if cfg else None
    return str(value) if value else None  # str: an invalid config may hold a number


def redacted(cfg):
    """A copy that is safe to print: secrets replaced by '***'."""
    out = dict(cfg)
    for key in SECRETS:
        if key in out:
            out[key] = "***"
    return out
