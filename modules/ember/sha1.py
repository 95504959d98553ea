"""SHA-1 in pure Python, for MicroPython builds whose hashlib lacks it (the webassembly port, unix
builds without SSL). ember.websocket loads it only then: the handshake hashes 60 bytes once per
connection, so speed does not matter here. Not for anything security-related."""

_M = 0xFFFFFFFF


def _rol(x, n):
    return ((x << n) | (x >> (32 - n))) & _M


class sha1:
    """The hashlib interface ember needs: `sha1(data).digest()` (and `update`)."""

    def __init__(self, data=b""):
        self._h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        self._tail = b""
        self._n = 0
        self.update(data)

    def update(self, data):
        data = self._tail + bytes(data)
        self._n += len(data) - len(self._tail)
        i = 0
        while i + 64 <= len(data):
            self._block(data, i)
            i += 64
        self._tail = data[i:]

    def digest(self):
        n = self._n
        tail = self._tail + b"\x80" + bytes((55 - n) % 64) + (n * 8).to_bytes(8, "big")
        h = list(self._h)
        saved = self._h
        self._h = h
        for i in range(0, len(tail), 64):
            self._block(tail, i)
        self._h = saved
        out = b""
        for v in h:
            out += v.to_bytes(4, "big")
        return out

    def _block(self, data, off):
        w = [int.from_bytes(data[off + 4 * i : off + 4 * i + 4], "big") for i in range(16)]
        for i in range(16, 80):
            w.append(_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
        h = self._h
        a, b, c, d, e = h
        for i in range(80):
            if i < 20:
                f = (b & c) | (~b & d)
                k = 0x5A827999
            elif i < 40:
                f = b ^ c ^ d
                k = 0x6ED9EBA1
            elif i < 60:
                f = (b & c) | (b & d) | (c & d)
                k = 0x8F1BBCDC
            else:
                f = b ^ c ^ d
                k = 0xCA62C1D6
            a, b, c, d, e = (_rol(a, 5) + (f & _M) + e + k + w[i]) & _M, a, _rol(b, 30), c, d
        for i in range(5):
            h[i] = (h[i] + (a, b, c, d, e)[i]) & _M
