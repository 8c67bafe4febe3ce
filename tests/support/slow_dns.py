"""A tiny authoritative DNS server on 127.0.0.1 (UDP and TCP) that answers every query after a
fixed delay, each query in its own thread: a stand-in for a slow network, to show that lookups
overlap. Built on dnspython's message API; records come from a dict the caller writes.

    with SlowDns({"example.com": {"A": ["192.0.2.1"], "NS": ["ns1.example.net."]}}, delay=0.05) as srv:
        resolver = LiveResolver([f"127.0.0.1@{srv.port}"])

A name absent from the data is NXDOMAIN; a present name without the asked type is NODATA
(names that only exist as parents of others are NODATA too). ``srv.queries`` counts the queries.
"""

from __future__ import annotations

import socketserver
import struct
import threading
import time
from collections.abc import Mapping, Sequence

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def _quote(rdtype: str, record: str) -> str:
    """TXT data may be given unquoted (one string); quote it for the presentation-format parser."""
    if rdtype.upper() != "TXT" or record.startswith('"'):
        return record
    return '"' + record.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SlowDns:
    def __init__(self, zone: Mapping[str, Mapping[str, Sequence[str]]], *, delay: float = 0.05, ttl: int = 300):
        self.zone = {k.lower().rstrip("."): {t.upper(): [_quote(t, r) for r in v] for t, v in types.items()}
                     for k, types in zone.items()}
        self.delay = delay
        self.ttl = ttl
        self.queries = 0
        self.max_parallel = 0
        self._active = 0
        self._lock = threading.Lock()
        self._udp: socketserver.ThreadingUDPServer | None = None
        self._tcp: socketserver.ThreadingTCPServer | None = None
        self.port = 0

    def answer(self, wire: bytes) -> bytes | None:
        try:
            q = dns.message.from_wire(wire)
        except Exception:
            return None
        with self._lock:
            self.queries += 1
            self._active += 1
            self.max_parallel = max(self.max_parallel, self._active)
        try:
            time.sleep(self.delay)
            resp = dns.message.make_response(q)
            resp.flags |= dns.flags.AA
            if not q.question:
                resp.set_rcode(dns.rcode.FORMERR)
                return resp.to_wire()
            question = q.question[0]
            name = question.name.to_text().lower().rstrip(".")
            rdtype = dns.rdatatype.to_text(question.rdtype)
            entry = self.zone.get(name)
            if entry is None:
                if not any(k.endswith("." + name) for k in self.zone):
                    resp.set_rcode(dns.rcode.NXDOMAIN)
                return resp.to_wire()
            records = entry.get(rdtype)
            if records:
                rrset = dns.rrset.from_text_list(question.name, self.ttl, dns.rdataclass.IN, question.rdtype, records)
                resp.answer.append(rrset)
            return resp.to_wire()
        finally:
            with self._lock:
                self._active -= 1

    def __enter__(self) -> SlowDns:
        srv = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                out = srv.answer(data)
                if out is not None:
                    sock.sendto(out, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn = self.request
                head = conn.recv(2)
                if len(head) < 2:
                    return
                (size,) = struct.unpack("!H", head)
                data = b""
                while len(data) < size:
                    chunk = conn.recv(size - len(data))
                    if not chunk:
                        return
                    data += chunk
                out = srv.answer(data)
                if out is not None:
                    conn.sendall(struct.pack("!H", len(out)) + out)

        class UdpServer(socketserver.ThreadingUDPServer):
            daemon_threads = True
            allow_reuse_address = True

        class TcpServer(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        for _ in range(20):
            self._udp = UdpServer(("127.0.0.1", 0), Udp)
            port = self._udp.server_address[1]
            try:
                self._tcp = TcpServer(("127.0.0.1", port), Tcp)
                break
            except OSError:
                self._udp.server_close()
                self._udp = None
        if self._udp is None or self._tcp is None:
            raise RuntimeError("no free loopback port for UDP and TCP")
        self.port = int(self._udp.server_address[1])
        for s in (self._udp, self._tcp):
            threading.Thread(target=s.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for s in (self._udp, self._tcp):
            if s is not None:
                s.shutdown()
                s.server_close()
        self._udp = self._tcp = None

