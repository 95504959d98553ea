"""ember: an asyncio HTTP/1.1 server for MicroPython (and CPython), built to be frozen."""

from .app import App
from .http import HTTPError, abort


def __getattr__(name):
    # Response, redirect, Request and __version__ load on first use, so `import ember` costs a
    # device little heap. On MicroPython `from ember import <submodule>` also lands here until
    # it is loaded.
    module = "response" if name in ("Response", "redirect") else name
    if name == "Request":
        module = "request"
    elif name == "__version__":
        from .version import VERSION

        return VERSION
    try:
        __import__("ember." + module)
    except ImportError:
        raise AttributeError(name)
    module = globals()[module]
    return module if module.__name__ == "ember." + name else getattr(module, name)


__all__ = ("App", "HTTPError", "Request", "Response", "abort", "redirect", "__version__")
