"""A real authoritative DNS server (Knot) on a loopback port, serving zones a test writes.

Usage::

    with KnotServer({"example.com": ZONE_TEXT}) as srv:
        resolver = LiveResolver([f"127.0.0.1@{srv.port}"])

Zone text is a normal zone file body (``$ORIGIN`` is set for you; SOA and NS are added when missing).
Records for names of several zones are fine: give one entry per zone apex.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import dns.message
import dns.query

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"


def available() -> bool:
    return Path(KNOTD).exists()


def _free_port() -> int:
    # A port free for both UDP and TCP.
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
        except OSError:
            s.close()
            t.close()
            continue
        s.close()
        t.close()
        return port
    raise RuntimeError("no free loopback port")


class KnotServer:
    def __init__(self, zones: dict[str, str]):
        self.zones = zones
        self.port = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def _zone_text(self, apex: str, body: str) -> str:
        apex = apex.rstrip(".") + "."
        lines = [f"$ORIGIN {apex}", "$TTL 300"]
        if " SOA " not in body and "\tSOA\t" not in body:
            lines.append(f"@ IN SOA ns1.{apex} hostmaster.{apex} 1 3600 600 86400 300")
        if not any(part.split()[2:3] == ["NS"] or " NS " in part for part in body.splitlines()):
            lines.append(f"@ IN NS ns1.{apex}")
            lines.append(f"ns1.{apex} IN A 127.0.0.1")
        lines.append(body)
        return "\n".join(lines) + "\n"

    def __enter__(self) -> KnotServer:
        self._dir = tempfile.TemporaryDirectory(prefix="knot-")
        d = Path(self._dir.name)
        self.port = _free_port()
        conf = [
            "server:",
            f"    rundir: {d}",
            f"    listen: 127.0.0.1@{self.port}",
            "    udp-max-payload: 1232",
            "database:",
            f"    storage: {d}",
            "log:",
            "  - target: stderr",
            "    any: warning",
            "template:",
            "  - id: default",
            f"    storage: {d}",
            "    zonefile-sync: -1",
            "    journal-content: none",
            "zone:",
        ]
        for apex, body in self.zones.items():
            name = apex.rstrip(".")
            (d / f"{name}.zone").write_text(self._zone_text(name, body))
            conf.append(f"  - domain: {name}.")
            conf.append(f"    file: {d}/{name}.zone")
        (d / "knot.conf").write_text("\n".join(conf) + "\n")
        self._proc = subprocess.Popen([KNOTD, "-c", str(d / "knot.conf")], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        apex0 = next(iter(self.zones)).rstrip(".") + "."
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"knotd exited: {err}")
            try:
                q = dns.message.make_query(apex0, "SOA")
                r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.3)
                if r.answer:
                    return self
            except Exception:
                pass
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("knotd did not answer in time")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
