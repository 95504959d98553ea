"""REST resources (tinyweb's `add_resource`): a class whose get/post/put/patch/delete methods
answer one URL.

    class Item:
        def get(self, req, id): return {"id": id}
        def delete(self, req, id): ...

    add_resource(app, Item, "/items/<int:id>")     # or app.add_resource(Item, "/items/<int:id>")

Methods take `(self, req, **params)` and return what any handler returns: a dict/list becomes
JSON, a `Response(generator)` streams. Methods the class lacks answer 405 with `Allow`.
On CPython a generator method streams as it is; on MicroPython a generator cannot be told from an
`async def` coroutine, so decorate streaming methods with `@streams`."""

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def add_resource(app, resource, path, **kwargs):
    """Register `resource` (a class, instantiated with `kwargs`, or an instance) at `path`."""
    obj = resource(**kwargs) if isinstance(resource, type) else resource
    found = False
    for method in _METHODS:
        handler = getattr(obj, method.lower(), None)
        if handler is not None:
            app.route(path, (method,))(handler)
            found = True
    if not found:
        raise ValueError("resource has no get/post/put/patch/delete method")
    return obj


def streams(method):
    """Decorator for a resource method that is a generator: its chunks are streamed (chunked)."""

    def wrapper(self, req, **params):
        from .response import Response

        return Response(method(self, req, **params))

    return wrapper
