"""The captive portal's DNS responder: every A query is answered with the soft AP's address.

In setup mode the AP's DHCP server offers the AP itself as the DNS server (both ESP ports, and
it cannot be changed), so a phone that joins asks us for every name it looks up. Answering all of
them with our address sends its connectivity probe to the portal, which redirects it to the setup
page: that is what makes the phone open the page by itself.

`serve` runs as a task on the event loop: it waits for a datagram without blocking the loop,
answers it and waits again, until cancelled. Packets it cannot parse are dropped (a responder
facing the air must not die of one); a query it does not answer gets NOTIMP or an empty answer,
so the client stops asking. ESP8266's lwIP queues only 4 datagrams per socket and drops the rest:
clients retry."""

import socket

from ember.runtime import MICROPYTHON, sleep_ms

TTL = 10  # seconds: short, so that no client keeps our address for real names after setup
# Bytes read of a datagram: a question fits (header 12, name at most 255, type and class 4);
# the rest of a longer one (EDNS options) is cut off, and would be dropped from the reply anyway.
_MAX = 300


def answer(query, tail):
    """The reply to the DNS message `query` (bytes), or None to drop it. `tail` is the answer
    record `record(ip)` makes, appended to the reply for a query of type A, class IN.

    One question, as every resolver sends: anything else is dropped, as is a packet that is not a
    query. A reply copies the query's header and question, and drops the additional records
    (EDNS): a plain DNS reply is what every client accepts."""
    n = len(query)
    if n < 12 or query[2] & 0x80:  # shorter than a header, or itself a response
        return None
    flags = query[2]
    if flags & 0x78:  # an opcode other than QUERY (status, notify, update): NOTIMP
        out = bytearray(12)
        out[0] = query[0]
        out[1] = query[1]
        out[2] = 0x80 | (flags & 0x79)  # QR, the opcode, RD
        out[3] = 4  # NOTIMP; no question, no records
        return out
    if query[4] or query[5] != 1:
        return None
    i = 12
    while True:  # the name: labels of 1-63 bytes, up to the root label (0)
        if i >= n:
            return None
        k = query[i]
        if not k:
            break
        if k > 63:  # a compression pointer or a reserved label type: never in a question
            return None
        i += k + 1
    end = i + 5  # the root label, QTYPE and QCLASS
    if end > n:
        return None
    is_a = query[i + 1] == 0 and query[i + 2] == 1 and query[i + 3] == 0 and query[i + 4] == 1
    out = bytearray(end + len(tail) if is_a else end)
    out[:end] = query[:end]
    out[2] = 0x84 | (flags & 1)  # QR, AA, RD as asked
    out[3] = 0x80  # RA (to the phone we are its resolver), NOERROR
    out[6] = 0
    out[7] = 1 if is_a else 0  # ANCOUNT; other types get an empty answer (NODATA)
    out[8] = out[9] = out[10] = out[11] = 0  # no authority or additional records
    if is_a:
        out[end:] = tail
    return out


def record(ip):
    """The answer record for `ip` ("a.b.c.d"): a pointer to the question's name (offset 12),
    type A, class IN, TTL, and the 4 address bytes."""
    parts = ip.split(".")
    if len(parts) != 4:
        raise ValueError("not an IPv4 address: %r" % ip)
    return (
        b"\xc0\x0c\x00\x01\x00\x01"
        + TTL.to_bytes(4, "big")
        + b"\x00\x04"
        + bytes([int(p) for p in parts])
    )


async def serve(ip, port=53, ready=None):
    """Answer DNS queries on UDP `port` of every interface until cancelled: each A query with
    `ip`. `ready(port)` is called once the socket is bound (a test then knows it can ask)."""
    import asyncio

    tail = record(ip)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo("0.0.0.0", port)[0][-1])
        sock.setblocking(False)
        if ready is not None:
            ready(port)
        if MICROPYTHON:
            # read(0) waits until the socket is readable and returns b"" without consuming the
            # datagram (asyncio has no recvfrom); recvfrom then takes it.
            readable = asyncio.StreamReader(sock)
        else:
            loop = asyncio.get_running_loop()
        while True:
            try:
                if MICROPYTHON:
                    await readable.read(0)
                    query, peer = sock.recvfrom(_MAX)
                else:
                    query, peer = await loop.sock_recvfrom(sock, _MAX)
            except (OSError, MemoryError):
                # EAGAIN after a wake-up without data, an ICMP error from a peer, or the heap
                # short for a moment (a page being sent): wait a little (an error that repeats
                # must not spin the loop) and read again.
                await sleep_ms(20)
                continue
            try:
                reply = answer(query, tail)
                if reply is not None:
                    sock.sendto(reply, peer)  # the peer's address as recvfrom gave it (any port)
            except OSError:  # a full send queue or a vanished peer: the client asks again
                pass
            except MemoryError:  # as above; this query is lost, the client asks again
                await sleep_ms(50)
    finally:
        sock.close()
