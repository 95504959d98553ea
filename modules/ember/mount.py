"""Sub-apps: a mounted app's handler runs with that app's own hooks and error handlers."""


class Mounted:
    """A sub-app's handler, run with the sub-app's own hooks and error handlers."""

    def __init__(self, app, handler):
        self.app = app
        self.handler = handler

    async def __call__(self, req, **params):
        from .dispatch import maybe_await, on_error
        from .http import HTTPError

        app = self.app
        try:
            for hook in app.before:
                result = await maybe_await(hook(req))
                if result is not None:
                    return result
            return await maybe_await(self.handler(req, **params))
        except HTTPError as e:
            return await on_error(app, req, e.status, e)
        except MemoryError:
            raise
        except Exception as e:
            if not app.error_handlers:
                raise
            return await on_error(app, req, 500, e)
