"""Sub-apps: a mounted app's handler runs with that app's own hooks and error handlers."""


def mount(parent, prefix, app):
    """Add `app`'s routes to `parent` under `prefix` (see `App.mount`)."""
    prefix = prefix.rstrip("/")
    router = app.router
    for path, table in router.static.items():
        _add(parent, prefix + path, table, app)
    for segments, _tail, table in router.patterns:
        path = "/".join(
            lit if lit is not None else _unparse(name, kind) for lit, name, kind in segments
        )
        _add(parent, prefix + path, table, app)


def _add(parent, path, table, app):
    for method, handler in table.items():
        parent.router.add(path, (method,), Mounted(app, handler))


def _unparse(name, kind):
    return "<%s:%s>" % (kind, name) if kind else "<%s>" % name


class Mounted:
    """A sub-app's handler, run with the sub-app's own hooks and error handlers."""

    def __init__(self, app, handler):
        self.app = app
        self.handler = handler

    async def __call__(self, req, **params):
        from .dispatch import awaited, before, on_error
        from .http import HTTPError

        app = self.app
        try:
            result = await before(app, req)
            if result is not None:
                return result
            return await awaited(self.handler(req, **params))
        except HTTPError as e:
            return await on_error(app, req, e.status, e)
        except MemoryError:
            raise
        except Exception as e:
            if not app.error_handlers:
                raise
            return await on_error(app, req, 500, e)
