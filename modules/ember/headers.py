"""The request headers as a case-insensitive mapping of str (loaded on first use)."""


class Headers:
    """Case-insensitive, str view of the request headers (kept internally as lowercase bytes)."""

    def __init__(self, raw):
        self._raw = raw

    def get(self, name, default=None):
        value = self._raw.get(name.lower().encode())
        return default if value is None else value.decode()

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return name.lower().encode() in self._raw

    def __len__(self):
        return len(self._raw)

    def items(self):
        return [(k.decode(), v.decode()) for k, v in self._raw.items()]

    def __repr__(self):
        return "Headers(%r)" % (self.items(),)
