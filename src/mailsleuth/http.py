"""The one HTTP client for the few opt-in web lookups (RDAP, link following).

Injected like the resolver: tests pass a client bound to a local server. Nothing in mailsleuth
opens a connection unless the user asked for RDAP or link following.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import httpx


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # set when no response came (timeout, refused, refused by policy)
    peer_ip: str | None = None


class HttpClient(Protocol):
    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                timeout: float | None = None, max_bytes: int = 1_000_000) -> HttpResponse: ...


class HttpxClient:
    """A plain client: no cookies, no redirects followed by itself (callers decide), bounded reads."""

    def __init__(self, *, timeout: float = 5.0, user_agent: str = "mailsleuth"):
        self._timeout = timeout
        self._client = httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False,
                                    headers={"User-Agent": user_agent}, cookies=None)

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                timeout: float | None = None, max_bytes: int = 1_000_000) -> HttpResponse:
        try:
            with self._client.stream(method, url, headers=headers, timeout=timeout or self._timeout) as resp:
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body.extend(chunk)
                    if len(body) >= max_bytes:
                        break
                self._client.cookies.clear()
                peer = None
                try:
                    stream = resp.extensions.get("network_stream")
                    if stream is not None:
                        addr = stream.get_extra_info("server_addr")
                        peer = str(addr[0]) if addr else None
                except Exception:
                    peer = None
                return HttpResponse(url=str(resp.url), status=resp.status_code, headers=dict(resp.headers),
                                    body=bytes(body[:max_bytes]), peer_ip=peer)
        except httpx.TimeoutException:
            return HttpResponse(url=url, status=0, error="timeout")
        except httpx.HTTPError as exc:
            return HttpResponse(url=url, status=0, error=type(exc).__name__)

    def request_pinned(self, method: str, url: str, ip: str, *, headers: dict[str, str] | None = None,
                       timeout: float | None = None, max_bytes: int = 65536) -> HttpResponse:
        """Like :meth:`request`, but connect to ``ip`` (already vetted by the caller) while the Host
        header and TLS SNI / certificate check use the URL's host name. The name is never resolved
        here, so a DNS answer cannot change between the caller's check and the connection."""
        try:
            parts = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return HttpResponse(url=url, status=0, error="invalid URL")
        host = parts.host
        literal = f"[{ip}]" if ":" in ip else ip
        try:
            pinned = parts.copy_with(host=literal.strip("[]"))
        except (httpx.InvalidURL, TypeError, ValueError):
            return HttpResponse(url=url, status=0, error="invalid URL")
        hdrs = dict(headers or {})
        default_port = {"http": 80, "https": 443}.get(parts.scheme)
        hdrs["Host"] = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
        ext = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            req = self._client.build_request(method, pinned, headers=hdrs, timeout=timeout or self._timeout,
                                             extensions=ext)
            resp = self._client.send(req, stream=True)
            try:
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body.extend(chunk)
                    if len(body) >= max_bytes:
                        break
            finally:
                resp.close()
                self._client.cookies.clear()
            return HttpResponse(url=url, status=resp.status_code, headers=dict(resp.headers),
                                body=bytes(body[:max_bytes]), peer_ip=ip)
        except httpx.TimeoutException:
            return HttpResponse(url=url, status=0, error="timeout", peer_ip=ip)
        except httpx.HTTPError as exc:
            return HttpResponse(url=url, status=0, error=type(exc).__name__, peer_ip=ip)

    def close(self) -> None:
        self._client.close()
