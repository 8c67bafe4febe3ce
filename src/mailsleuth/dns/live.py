"""Live DNS through dnspython, with timeouts; failures become Status values.

``nameservers`` may name servers as ``IP`` or ``IP@PORT`` (tests point it at a Knot server on
loopback). A truncated UDP answer is retried over TCP (dnspython does this in ``resolve``);
``tcp=True`` forces TCP.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from mailsleuth.dns.base import Answer, Status, answer, normalize_name
from mailsleuth.dns.records import rdata_to_record


def _parse_server(spec: str) -> tuple[str, int]:
    if "@" in spec:
        host, port = spec.rsplit("@", 1)
        return host, int(port)
    if spec.count(":") == 1 and "." in spec:  # 127.0.0.1:5353
        host, port = spec.split(":")
        return host, int(port)
    return spec, 53


class LiveResolver:
    mode = "live"

    def __init__(self, nameservers: Sequence[str] | None = None, *, timeout: float = 3.0,
                 lifetime: float | None = None, tcp: bool = False):
        self._timeout = timeout
        self._lifetime = lifetime or max(timeout * 2, timeout)
        self._tcp = tcp
        if nameservers:
            self._servers = [_parse_server(s) for s in nameservers]
        else:
            try:
                sys_res = dns.resolver.Resolver(configure=True)
                self._servers = [(str(ns), 53) for ns in sys_res.nameservers]
            except dns.exception.DNSException:
                self._servers = []

    def query(self, name: str, rdtype: str) -> Answer:
        qname = normalize_name(name)
        rdtype = rdtype.upper()
        start = time.perf_counter()
        if not self._servers:
            return answer(qname, rdtype, Status.SERVFAIL, source="live")
        try:
            dname = dns.name.from_text(qname or ".")
            rtype = dns.rdatatype.from_text(rdtype)
        except (dns.exception.DNSException, ValueError):
            return answer(qname, rdtype, Status.NXDOMAIN, source="live")
        deadline = start + self._lifetime
        last = Status.TIMEOUT
        for host, port in self._servers:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            q = dns.message.make_query(dname, rtype, want_dnssec=False)
            q.flags |= dns.flags.RD
            used_tcp = False
            try:
                if self._tcp:
                    resp = dns.query.tcp(q, host, timeout=min(self._timeout, remaining), port=port)
                    used_tcp = True
                else:
                    resp = dns.query.udp(q, host, timeout=min(self._timeout, remaining), port=port,
                                         ignore_trailing=True)
                    if resp.flags & dns.flags.TC:
                        remaining = deadline - time.perf_counter()
                        resp = dns.query.tcp(q, host, timeout=max(0.1, min(self._timeout, remaining)), port=port)
                        used_tcp = True
            except dns.exception.Timeout:
                last = Status.TIMEOUT
                continue
            except (OSError, dns.exception.DNSException):
                last = Status.SERVFAIL
                continue
            elapsed = (time.perf_counter() - start) * 1000
            return self._to_answer(qname, rdtype, rtype, resp, elapsed, used_tcp)
        return answer(qname, rdtype, last, source="live", elapsed_ms=(time.perf_counter() - start) * 1000)

    @staticmethod
    def _to_answer(qname: str, rdtype: str, rtype: dns.rdatatype.RdataType, resp: dns.message.Message,
                   elapsed: float, used_tcp: bool) -> Answer:
        rcode = resp.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return answer(qname, rdtype, Status.NXDOMAIN, source="live", elapsed_ms=elapsed,
                          truncated_fallback_tcp=used_tcp)
        if rcode == dns.rcode.REFUSED:
            return answer(qname, rdtype, Status.REFUSED, source="live", elapsed_ms=elapsed)
        if rcode != dns.rcode.NOERROR:
            return answer(qname, rdtype, Status.SERVFAIL, source="live", elapsed_ms=elapsed)
        records: list[str] = []
        ttl: int | None = None
        canonical: str | None = None
        for rrset in resp.answer:
            if rrset.rdtype == rtype:
                records.extend(rdata_to_record(rd) for rd in rrset)
                ttl = rrset.ttl if ttl is None else min(ttl, rrset.ttl)
            elif rrset.rdtype == dns.rdatatype.CNAME:
                canonical = normalize_name(str(rrset[0].target))
        status = Status.NOERROR if records else Status.NODATA
        return answer(qname, rdtype, status, tuple(records), source="live", ttl=ttl, elapsed_ms=elapsed,
                      canonical_name=canonical, truncated_fallback_tcp=used_tcp)
