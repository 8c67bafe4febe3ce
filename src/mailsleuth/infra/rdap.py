"""Registration data (RDAP, RFC 9082/9083) for domains and IP addresses, with an on-disk cache.

Opt-in only (it is an HTTP call to a registry). The base URL comes from
``Config.rdap_bootstrap_url`` when set (tests point it at a local server; any RDAP redirector
such as rdap.org works too), otherwise from the IANA bootstrap registries (RFC 9224), which are
cached on disk like the answers. Every HTTP call goes through the injected ``HttpClient``;
failures are values (``RdapRecord.error``), never exceptions. Redirects are followed a bounded
number of times, http(s) only. Response bodies are bounded by the client.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

from mailsleuth.http import HttpClient
from mailsleuth.model.infra import RdapRecord

IANA_DNS = "https://data.iana.org/rdap/dns.json"
IANA_V4 = "https://data.iana.org/rdap/ipv4.json"
IANA_V6 = "https://data.iana.org/rdap/ipv6.json"
CACHE_TTL_S = 7 * 86400  # answers and bootstrap files
NEGATIVE_TTL_S = 86400  # "not found" answers
MAX_REDIRECTS = 3
MAX_BODY = 512 * 1024
_REDACTED = ("redacted", "not disclosed", "data protected", "privacy", "withheld")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mailsleuth" / "rdap"


class RdapCache:
    """One JSON file per URL: ``{"fetched": epoch, "status": int, "body": {...}}``."""

    def __init__(self, directory: str | Path | None, *, clock: Callable[[], float] = time.time,
                 ttl_s: float = CACHE_TTL_S):
        self.dir = Path(directory) if directory else None
        self.clock = clock
        self.ttl_s = ttl_s

    def _path(self, url: str) -> Path | None:
        if self.dir is None:
            return None
        return self.dir / (hashlib.sha256(url.encode("utf-8")).hexdigest()[:40] + ".json")

    def get(self, url: str) -> tuple[int, Any] | None:
        p = self._path(url)
        if p is None:
            return None
        try:
            entry = json.loads(p.read_text(encoding="utf-8"))
            age = self.clock() - float(entry["fetched"])
            status = int(entry["status"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        ttl = self.ttl_s if status == 200 else NEGATIVE_TTL_S
        if age < 0 or age > ttl:
            return None
        return status, entry.get("body")

    def put(self, url: str, status: int, body: Any) -> None:
        p = self._path(url)
        if p is None:
            return
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"fetched": self.clock(), "url": url, "status": status, "body": body}, fh)
            os.replace(tmp, p)
        except OSError:
            return


class RdapClient:
    def __init__(self, http: HttpClient, *, base_url: str | None = None, cache: RdapCache | None = None,
                 timeout: float = 5.0):
        self.http = http
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.cache = cache or RdapCache(None)
        self.timeout = timeout

    # -- HTTP with cache and bounded redirects -------------------------------------------------
    def _fetch(self, url: str) -> tuple[int, Any, bool, str | None]:
        """(status, parsed JSON or None, from_cache, error)."""
        hit = self.cache.get(url)
        if hit is not None:
            return hit[0], hit[1], True, None
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            resp = self.http.request("GET", current, headers={"Accept": "application/rdap+json, application/json"},
                                     timeout=self.timeout, max_bytes=MAX_BODY)
            if resp.error:
                return 0, None, False, resp.error
            if resp.status in (301, 302, 303, 307, 308):
                loc = {k.lower(): v for k, v in resp.headers.items()}.get("location")
                if not loc:
                    return resp.status, None, False, "redirect without a location"
                nxt = urljoin(current, loc)
                if not nxt.startswith(("http://", "https://")):
                    return resp.status, None, False, "redirect to a non-HTTP location"
                current = nxt
                continue
            if resp.status == 404:
                self.cache.put(url, 404, None)
                return 404, None, False, "not found"
            if resp.status != 200:
                return resp.status, None, False, f"HTTP {resp.status}"
            try:
                body = json.loads(resp.body.decode("utf-8", errors="replace"))
            except ValueError:
                return resp.status, None, False, "the answer is not JSON"
            if not isinstance(body, dict):
                return resp.status, None, False, "the answer is not an RDAP object"
            self.cache.put(url, 200, body)
            return 200, body, False, None
        return 0, None, False, "too many redirects"

    # -- bootstrap ------------------------------------------------------------------------------
    def _service_for_domain(self, name: str) -> str | None:
        if self.base_url:
            return self.base_url
        status, body, _c, _e = self._fetch(IANA_DNS)
        if status != 200 or not isinstance(body, dict):
            return None
        labels = name.lower().split(".")
        best: tuple[int, str] | None = None
        for svc in body.get("services", [])[:2000]:
            try:
                tlds, urls = svc[0], svc[1]
            except (IndexError, TypeError, KeyError):
                continue
            for tld in tlds:
                tl = str(tld).lower().split(".")
                if labels[-len(tl):] == tl and (best is None or len(tl) > best[0]) and urls:
                    best = (len(tl), _pick_url(urls))
        return best[1] if best else None

    def _service_for_ip(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        if self.base_url:
            return self.base_url
        status, body, _c, _e = self._fetch(IANA_V4 if ip.version == 4 else IANA_V6)
        if status != 200 or not isinstance(body, dict):
            return None
        best: tuple[int, str] | None = None
        for svc in body.get("services", [])[:2000]:
            try:
                nets, urls = svc[0], svc[1]
            except (IndexError, TypeError, KeyError):
                continue
            for n in nets:
                try:
                    net = ipaddress.ip_network(str(n), strict=False)
                except ValueError:
                    continue
                if net.version == ip.version and ip in net and (best is None or net.prefixlen > best[0]) and urls:
                    best = (net.prefixlen, _pick_url(urls))
        return best[1] if best else None

    # -- lookups --------------------------------------------------------------------------------
    def domain(self, name: str, *, roles: tuple[str, ...] = (), at: datetime | None = None) -> RdapRecord:
        base = self._service_for_domain(name)
        if base is None:
            return RdapRecord(query=name, kind="domain", roles=roles, error="no RDAP service is known for this name")
        rec = self._lookup(base, "domain/" + quote(name), query=name, kind="domain", roles=roles)
        return _aged(rec, at)

    def ip(self, addr: str, *, roles: tuple[str, ...] = ()) -> RdapRecord:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return RdapRecord(query=addr, kind="ip", roles=roles, error="not an IP address")
        base = self._service_for_ip(ip)
        if base is None:
            return RdapRecord(query=addr, kind="ip", roles=roles, error="no RDAP service is known for this address")
        return self._lookup(base, "ip/" + str(ip), query=addr, kind="ip", roles=roles)

    def _lookup(self, base: str, path: str, *, query: str, kind: str, roles: tuple[str, ...]) -> RdapRecord:
        """Fetch ``base``/``path`` (cache first) and parse it; a failure is a record carrying the error."""
        url = urljoin(base if base.endswith("/") else base + "/", path)
        status, body, cached, err = self._fetch(url)
        if body is None:
            return RdapRecord(query=query, kind=kind, roles=roles, url=url, error=err or f"HTTP {status}",
                              from_cache=cached)
        rec = parse_rdap(body, query=query, kind=kind)
        return replace(rec, roles=roles, url=url, from_cache=cached)


def _pick_url(urls: list[Any]) -> str:
    strs = [str(u) for u in urls]
    for u in strs:
        if u.startswith("https://"):
            return u
    return strs[0]


def _aged(rec: RdapRecord, at: datetime | None) -> RdapRecord:
    if at is None or not rec.created:
        return rec
    try:
        created = datetime.fromisoformat(rec.created.replace("Z", "+00:00"))
    except ValueError:
        return rec
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return replace(rec, age_days=round((at - created).total_seconds() / 86400, 1))


def _vcard(entity: dict[str, Any], field: str) -> str | None:
    card = entity.get("vcardArray")
    if not isinstance(card, list) or len(card) < 2 or not isinstance(card[1], list):
        return None
    for prop in card[1][:60]:
        if isinstance(prop, list) and len(prop) >= 4 and prop[0] == field:
            val = prop[3]
            if isinstance(val, list):
                val = " ".join(str(v) for v in val if v)
            s = str(val).strip()
            if field == "tel" and s.startswith("tel:"):
                s = s[4:]
            return s[:200] or None
    return None


def _public(value: str | None) -> str | None:
    if not value:
        return None
    low = value.lower()
    return None if any(w in low for w in _REDACTED) else value


def _entities(obj: dict[str, Any], depth: int = 0) -> list[tuple[tuple[str, ...], dict[str, Any], int]]:
    out: list[tuple[tuple[str, ...], dict[str, Any], int]] = []
    if depth > 3:
        return out
    for ent in obj.get("entities", [])[:40] if isinstance(obj.get("entities"), list) else []:
        if not isinstance(ent, dict):
            continue
        roles = tuple(str(r).lower() for r in ent.get("roles", []) if isinstance(r, str))
        out.append((roles, ent, depth))
        out.extend(_entities(ent, depth + 1))
    return out


def parse_rdap(body: dict[str, Any], *, query: str, kind: str) -> RdapRecord:
    """The fields we report from an RDAP domain or IP network object."""
    created = expires = updated = None
    for ev in body.get("events", [])[:40] if isinstance(body.get("events"), list) else []:
        if not isinstance(ev, dict):
            continue
        action = str(ev.get("eventAction", "")).lower()
        date = str(ev.get("eventDate", ""))[:40] or None
        if action == "registration":
            created = date
        elif action == "expiration":
            expires = date
        elif action == "last changed":
            updated = date
    registrar = registrant = abuse_email = abuse_phone = None
    for roles, ent, depth in _entities(body):
        if "registrar" in roles and registrar is None:
            registrar = _vcard(ent, "fn") or (str(ent.get("handle")) if ent.get("handle") else None)
        if "registrant" in roles and registrant is None:
            registrant = _public(_vcard(ent, "org") or _vcard(ent, "fn"))
        if "abuse" in roles and abuse_email is None:
            abuse_email = _vcard(ent, "email")
            abuse_phone = _vcard(ent, "tel")
        if kind == "ip" and registrant is None and depth == 0 and ("registrant" in roles or "administrative" in roles):
            registrant = _public(_vcard(ent, "org") or _vcard(ent, "fn"))
    return RdapRecord(
        query=query, kind=kind, ok=True, handle=str(body.get("handle"))[:100] if body.get("handle") else None,
        registrar=registrar, registrant_org=registrant,
        network_name=str(body.get("name"))[:100] if kind == "ip" and body.get("name") else None,
        created=created, expires=expires, updated=updated, abuse_email=abuse_email, abuse_phone=abuse_phone,
    )
