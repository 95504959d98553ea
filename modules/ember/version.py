"""The ember version this firmware was built from.

The build freezes a generated ember_version module (see manifest.py); running from a source
tree there is none, hence the fallback.
"""

try:
    from ember_version import VERSION
except ImportError:
    VERSION = "unknown"
