"""Resolver backends: statuses as values, snapshot semantics, caching, recording and replay."""

from __future__ import annotations

import threading
import time

from mailsleuth.dns.base import Answer, Status
from mailsleuth.dns.cache import CachingResolver, write_snapshot
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.dns.snapshot import SnapshotResolver

SNAP = """; comment line
host.example.com.\t300\tIN\tA\t192.0.2.1
host.example.com.\t300\tIN\tA\t192.0.2.2
example.com. 3600 IN NS ns1.example.net.
example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.0/24" " -all"
sel._domainkey.example.com. 3600 IN TXT "v=DKIM1\\; k=rsa\\; p=AAAA"
www.example.com. 60 IN CNAME host.example.com.
$STATUS gone.example.com. A NXDOMAIN
$STATUS example.com. MX NODATA
"""


def test_snapshot_answers_and_unknowns(example_dns_path):
    r = SnapshotResolver.from_text(SNAP)
    a = r.query("HOST.example.com.", "a")
    assert a.status is Status.NOERROR and a.records == ("192.0.2.1", "192.0.2.2")
    assert r.query("example.com", "NS").records == ("ns1.example.net.",)
    assert r.query("example.com", "TXT").records == ("v=spf1 ip4:192.0.2.0/24 -all",)
    assert r.query("sel._domainkey.example.com", "TXT").records == ("v=DKIM1; k=rsa; p=AAAA",)
    assert r.query("www.example.com", "A").records == ("192.0.2.1", "192.0.2.2")
    assert r.query("gone.example.com", "A").status is Status.NXDOMAIN
    assert r.query("example.com", "MX").status is Status.NODATA
    # A name the snapshot never mentions is unknown, not NXDOMAIN; so is another type of a known name.
    assert r.query("other.example.org", "A").status is Status.UNKNOWN
    assert r.query("host.example.com", "AAAA").status is Status.UNKNOWN


def test_example_snapshot_loads(example_dns_path):
    r = SnapshotResolver.from_file(example_dns_path)
    ns = r.query("microsoftemails.com", "NS")
    assert ns.status is Status.NOERROR and len(ns.records) == 4
    txt = r.query("msft20151201._domainkey.email2.microsoft.com", "TXT")
    assert txt.records[0].startswith("v=DKIM1; k=rsa; p=MIGf")


def test_snapshot_bad_line_is_input_error():
    import pytest

    from mailsleuth.errors import InputError

    with pytest.raises(InputError, match=":2:"):
        SnapshotResolver.from_text("; ok\nthis is not a record\n")


def test_memory_resolver_semantics():
    r = MemoryResolver({
        "a.example.com": {"A": ["192.0.2.1"]},
        "deep.sub.example.com": {"TXT": ["x"]},
        "slow.example.com": "TIMEOUT",
        "t.example.com": {"TXT": ["TIMEOUT"]},
    })
    assert r.query("a.example.com", "A").status is Status.NOERROR
    assert r.query("a.example.com", "MX").status is Status.NODATA
    assert r.query("sub.example.com", "A").status is Status.NODATA  # empty non-terminal
    assert r.query("none.example.com", "A").status is Status.NXDOMAIN
    assert r.query("slow.example.com", "A").status is Status.TIMEOUT
    assert r.query("t.example.com", "TXT").status is Status.TIMEOUT


def test_offline_resolver():
    assert OfflineResolver().query("example.com", "A").status is Status.OFFLINE


class _Counting:
    mode = "live"

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def query(self, name: str, rdtype: str) -> Answer:
        with self.lock:
            self.calls += 1
        time.sleep(0.05)
        return Answer(name=name, rdtype=rdtype, status=Status.NOERROR, records=("192.0.2.9",), source="live")


def test_cache_deduplicates_and_overlaps():
    inner = _Counting()
    c = CachingResolver(inner)
    t0 = time.perf_counter()
    c.prefetch([(f"h{i}.example.com", "A") for i in range(20)] + [("h1.example.com", "A")])
    elapsed = time.perf_counter() - t0
    assert inner.calls == 20
    assert elapsed < 0.5  # 20 x 50 ms sequential would be 1 s
    c.query("h1.example.com", "A")
    assert inner.calls == 20 and c.deduplicated >= 1
    assert len(c.log) == 20


def test_cache_budget_and_raising_backend():
    class Boom:
        mode = "live"

        def query(self, name: str, rdtype: str) -> Answer:
            raise RuntimeError("backend bug")

    c = CachingResolver(Boom(), max_queries=2)
    assert c.query("a.example", "A").status is Status.SERVFAIL
    assert c.query("b.example", "A").status is Status.SERVFAIL
    over = c.query("c.example", "A")
    assert over.status is Status.TIMEOUT and over.source == "budget"


def test_record_then_replay(tmp_path):
    mem = MemoryResolver({"example.com": {"TXT": ['v=spf1 include:_spf.example.net "quoted" ~all'], "A": ["192.0.2.5"]}})
    c = CachingResolver(mem)
    c.query("example.com", "TXT")
    c.query("example.com", "A")
    c.query("missing.example.com", "A")
    path = tmp_path / "snap.dns"
    write_snapshot(c.log, path)
    replay = SnapshotResolver.from_file(path)
    for a in c.log:
        b = replay.query(a.name, a.rdtype)
        assert (b.status, b.records) == (a.status, a.records)


def test_answer_summary_is_made_once_and_stays_out_of_the_value():
    from mailsleuth.dns.base import Answer, Status, _summarise
    from mailsleuth.render.jsonout import to_jsonable

    many = tuple(f"10.0.0.{i}" for i in range(9))
    for records in ((), ("v=spf1 -all",), many):
        a = Answer(name="example.com", rdtype="TXT", status=Status.NOERROR if records else Status.NODATA,
                   records=records)
        fresh = Answer(name="example.com", rdtype="TXT", status=a.status, records=records)
        first = a.summary()
        assert first == _summarise(a)
        assert a.summary() is first  # remembered
        assert a == fresh and hash(a) == hash(fresh) and repr(a) == repr(fresh)  # not part of the value
        assert "_summary" not in to_jsonable(a)
    assert Answer(name="x.example", rdtype="A", status=Status.NOERROR, records=many).summary().endswith("(+3 more)")


def test_status_kinds():
    from mailsleuth.dns.base import Status

    assert [s for s in Status if s.is_data] == [Status.NOERROR]
    assert {s for s in Status if s.is_definite} == {Status.NOERROR, Status.NODATA, Status.NXDOMAIN}
    assert {s for s in Status if s.is_temporary} == {Status.SERVFAIL, Status.TIMEOUT, Status.REFUSED}
    assert not any(s.is_definite or s.is_temporary for s in (Status.UNKNOWN, Status.OFFLINE))
    assert len(Status) == 8 and Status("NXDOMAIN").is_definite  # the kinds are not members
