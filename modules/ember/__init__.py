"""ember: an asyncio HTTP/1.1 server for MicroPython (and CPython), built to be frozen."""

from .app import App
from .http import HTTPError, abort
from .request import Request
from .response import Response, redirect

__version__ = "0.1.0"

__all__ = ["App", "HTTPError", "Request", "Response", "abort", "redirect", "__version__"]
