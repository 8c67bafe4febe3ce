"""A local RDAP server on 127.0.0.1 for the registration-data tests, started by the test itself.

It serves RDAP JSON the test writes: ``domains`` maps a domain name to an RDAP domain object,
``ips`` maps a CIDR to an RDAP ip-network object (the most specific covering network answers).
Unknown names get 404 with an RDAP error object. ``redirect`` maps a domain to a path the server
redirects to (as a registry redirector does). Every request path is recorded, so a test can
assert that a cached answer was not fetched again.

    with RdapServer(domains={"example.com": domain_object("example.com", created="2024-01-01")}) as srv:
        client = RdapClient(HttpxClient(), base_url=srv.base_url)

``domain_object`` and ``ip_object`` build RFC 9083 objects with the usual entities (registrar with
a nested abuse contact, registrant) so tests do not repeat the JSON shape.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _vcard(**props: str) -> list[Any]:
    items: list[Any] = [["version", {}, "text", "4.0"]]
    for k, v in props.items():
        items.append([k, {}, "uri" if k == "tel" else "text", v])
    return ["vcard", items]


def domain_object(name: str, *, created: str | None = None, expires: str | None = None,
                  registrar: str = "Example Registrar, Inc.", abuse_email: str | None = "abuse@registrar.example",
                  registrant_org: str | None = None) -> dict[str, Any]:
    events = []
    if created:
        events.append({"eventAction": "registration", "eventDate": created})
    if expires:
        events.append({"eventAction": "expiration", "eventDate": expires})
    registrar_ent: dict[str, Any] = {"objectClassName": "entity", "roles": ["registrar"], "handle": "9999",
                                     "vcardArray": _vcard(fn=registrar)}
    if abuse_email:
        registrar_ent["entities"] = [{"objectClassName": "entity", "roles": ["abuse"],
                                      "vcardArray": _vcard(fn="Abuse desk", email=abuse_email, tel="tel:+1.5555550100")}]
    ents = [registrar_ent]
    ents.append({"objectClassName": "entity", "roles": ["registrant"],
                 "vcardArray": _vcard(fn="REDACTED FOR PRIVACY", org=registrant_org or "REDACTED FOR PRIVACY")})
    return {"objectClassName": "domain", "ldhName": name.upper(), "handle": f"D-{name}", "events": events,
            "entities": ents, "rdapConformance": ["rdap_level_0"]}


def ip_object(cidr: str, *, name: str = "EXAMPLE-NET", org: str = "Example Hosting Ltd",
              abuse_email: str = "abuse@hosting.example") -> dict[str, Any]:
    net = ipaddress.ip_network(cidr)
    return {"objectClassName": "ip network", "handle": f"NET-{net.network_address}", "name": name,
            "startAddress": str(net.network_address), "endAddress": str(net.broadcast_address),
            "entities": [{"objectClassName": "entity", "roles": ["registrant"], "vcardArray": _vcard(fn=org, org=org)},
                         {"objectClassName": "entity", "roles": ["abuse"],
                          "vcardArray": _vcard(fn="Abuse", email=abuse_email)}],
            "rdapConformance": ["rdap_level_0"]}


class RdapServer:
    def __init__(self, *, domains: dict[str, dict[str, Any]] | None = None,
                 ips: dict[str, dict[str, Any]] | None = None, redirect: dict[str, str] | None = None,
                 extra: dict[str, tuple[int, bytes]] | None = None):
        self.domains = {k.lower(): v for k, v in (domains or {}).items()}
        self.ips = {ipaddress.ip_network(k): v for k, v in (ips or {}).items()}
        self.redirect = redirect or {}
        self.extra = extra or {}
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/rdap/"

    def _answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path in self.extra:
            status, body = self.extra[path]
            return status, {"Content-Type": "application/rdap+json"}, body
        rest = path.removeprefix("/rdap/")
        kind, _, arg = rest.partition("/")
        obj: dict[str, Any] | None = None
        if kind == "domain":
            name = arg.lower().rstrip(".")
            if name in self.redirect:
                return 302, {"Location": self.redirect[name]}, b""
            obj = self.domains.get(name)
        elif kind == "ip":
            try:
                addr = ipaddress.ip_address(arg)
            except ValueError:
                return 400, {}, b"{}"
            best = None
            for net, o in self.ips.items():
                if net.version == addr.version and addr in net and (best is None or net.prefixlen > best[0]):
                    best = (net.prefixlen, o)
            obj = best[1] if best else None
        if obj is None:
            body = json.dumps({"errorCode": 404, "title": "Not Found"}).encode()
            return 404, {"Content-Type": "application/rdap+json"}, body
        return 200, {"Content-Type": "application/rdap+json"}, json.dumps(obj).encode()

    def __enter__(self) -> RdapServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append(path)
                status, headers, body = server._answer(path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
