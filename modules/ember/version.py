"""The ember version this firmware was built from.

The build freezes a generated ember_build module (see manifest.py); running from a source
tree there is none, hence the fallback.
"""

try:
    from ember_build import VERSION
except ImportError:
    VERSION = "unknown"
