"""The captive DNS responder (ember_device.dns) over a real UDP socket on loopback, asked by a
real DNS client (dnspython), in the runtime EMBER_RUNTIME names (CPython, MicroPython unix): A
queries answered with the AP's address, other types with an empty answer, other opcodes NOTIMP,
malformed packets dropped without stopping it, and the portal's HTTP answered on the same loop."""

import random
import socket

import httpx
import pytest

pytest.importorskip("dns.message", reason="dnspython is not installed (pip install -e .[test])")
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.opcode  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import portal_support  # noqa: E402

pytestmark = pytest.mark.integration
portal = portal_support.fixture()

AP = "192.168.4.1"
NAMES = (
    "connectivitycheck.gstatic.com",
    "captive.apple.com",
    "www.msftconnecttest.com",
    "ember.local",
    "a.b.c.d.e.f.example",
    "x" * 63 + ".com",  # the longest label
    "UPPER.Case.example",
)


def ask(port, wire, timeout=2.0):
    """Send one datagram to the responder; the reply's bytes, or None when none comes."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(wire, ("127.0.0.1", port))
        try:
            return s.recv(4096)
        except socket.timeout:
            return None


def check_a_answer(query, reply):
    assert q_matches(query, reply)
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA and reply.flags & dns.flags.QR
    assert len(reply.answer) == 1, reply
    rrset = reply.answer[0]
    assert rrset.name == query.question[0].name
    assert rrset.rdtype == dns.rdatatype.A and rrset.ttl == 10
    assert [r.address for r in rrset] == [AP]


def q_matches(query, reply):
    return reply.id == query.id and reply.question == query.question


def test_every_a_query_gets_the_ap_address(portal):
    p = portal(ap_ip=AP)
    for name in NAMES:
        query = dns.message.make_query(name, "A")
        check_a_answer(query, dns.query.udp(query, "127.0.0.1", port=p.dns_port, timeout=3))
    # With EDNS (what most resolvers send): answered without an OPT record.
    query = dns.message.make_query("example.com", "A", use_edns=0, payload=1232)
    reply = dns.query.udp(query, "127.0.0.1", port=p.dns_port, timeout=3)
    assert reply.edns == -1 and len(reply.answer) == 1
    # Recursion desired or not: RD is echoed.
    query = dns.message.make_query("example.com", "A")
    query.flags &= ~dns.flags.RD
    reply = dns.query.udp(query, "127.0.0.1", port=p.dns_port, timeout=3)
    check_a_answer(query, reply)
    assert not reply.flags & dns.flags.RD


def test_other_types_get_an_empty_answer(portal):
    p = portal(ap_ip=AP)
    for rdtype in ("AAAA", "MX", "TXT", "HTTPS", "PTR", "ANY"):
        query = dns.message.make_query("connectivitycheck.gstatic.com", rdtype)
        reply = dns.query.udp(query, "127.0.0.1", port=p.dns_port, timeout=3)
        assert q_matches(query, reply), rdtype
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer == [], (rdtype, reply)
    query = dns.message.make_query("version.bind", "TXT", rdclass="CH")
    reply = dns.query.udp(query, "127.0.0.1", port=p.dns_port, timeout=3)
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer == []


def test_other_opcodes_get_notimp(portal):
    p = portal(ap_ip=AP)
    for opcode in (dns.opcode.NOTIFY, dns.opcode.UPDATE, dns.opcode.STATUS):
        query = dns.message.make_query("example.com", "SOA")
        query.set_opcode(opcode)
        wire = ask(p.dns_port, query.to_wire())
        assert wire is not None, opcode
        reply = dns.message.from_wire(wire, question_only=True)
        assert reply.id == query.id and reply.opcode() == opcode
        assert reply.rcode() == dns.rcode.NOTIMP and reply.flags & dns.flags.QR


def test_malformed_packets_are_dropped_and_it_keeps_answering(portal):
    p = portal(ap_ip=AP)
    good = dns.message.make_query("example.com", "A")
    wire = good.to_wire()
    header = wire[:12]
    bad = [
        b"",
        b"\x00" * 5,
        header,  # a question announced, none there
        header + b"\x07example",  # the name cut short
        header + b"\x07example\x03com\x00\x00",  # QTYPE cut short
        header + b"\xc0\x0c\x00\x01\x00\x01",  # a compression pointer as the question's name
        header + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",  # a 64-byte label
        wire[:2] + b"\x81\x80" + wire[4:],  # a response, not a query
        wire[:4] + b"\x00\x02" + wire[6:],  # two questions
        wire[:4] + b"\x00\x00" + wire[6:],  # no question
        bytes(range(256)) * 8,  # 2 KB of noise
    ]
    for packet in bad:
        assert ask(p.dns_port, packet, timeout=0.3) is None, packet
    check_a_answer(good, dns.message.from_wire(ask(p.dns_port, wire)))
    # Mutated queries: whatever comes back is a DNS message a second parser reads, for that id.
    rng = random.Random(11)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        replies = 0
        for _ in range(6):
            for _ in range(50):
                packet = bytearray(wire)
                for _ in range(rng.randint(1, 4)):
                    packet[rng.randrange(len(packet))] = rng.randrange(256)
                if rng.random() < 0.3:
                    packet = packet[: rng.randrange(len(packet))]
                s.sendto(bytes(packet), ("127.0.0.1", p.dns_port))
            while True:
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    break
                replies += 1
                reply = dns.message.from_wire(data)
                assert reply.flags & dns.flags.QR
                assert len(reply.answer) <= 1
        assert replies > 0  # some mutations leave a valid query
    check_a_answer(good, dns.message.from_wire(ask(p.dns_port, wire)))
    assert p.alive(), p.output()


def test_a_burst_from_many_clients_and_http_on_the_same_loop(portal):
    p = portal(ap_ip=AP)
    socks = []
    queries = []
    try:
        for i in range(40):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            socks.append(s)
            q = dns.message.make_query("host%d.example" % i, "A")
            queries.append(q)
            s.sendto(q.to_wire(), ("127.0.0.1", p.dns_port))
        # The portal answers HTTP meanwhile (here a redirect: the AP address is not 127.0.0.1).
        r = httpx.get(p.url + "generate_204", timeout=10)
        assert r.status_code == 302 and r.headers["location"] == "http://%s:%d/" % (
            AP,
            p.http_port,
        )
        for s, q in zip(socks, queries, strict=True):
            check_a_answer(q, dns.message.from_wire(s.recv(4096)))
    finally:
        for s in socks:
            s.close()
