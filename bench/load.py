"""Load run: N analyses at C concurrent clients against a ``mailsleuth serve`` subprocess on loopback.

    .venv/bin/python bench/load.py [--requests 1000] [--concurrency 8] [--endpoint api|page]
                                   [--message examples/onedrive-microsoftemails.eml]

The server runs offline (``--offline``: no DNS, nothing leaves the machine). Reports latency
percentiles (p50/p90/p99/max), throughput, errors, and the server's memory: RSS before the run,
the largest RSS sampled during it, and the kernel's high-water mark (VmHWM) from /proc.
The loop is bounded: exactly --requests requests are sent, then the server is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc/PID/stat), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (Linux /proc)."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description="mailsleuth web load run (loopback, offline)")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--endpoint", choices=("api", "page"), default="api",
                    help="api: POST /api/analyze (JSON); page: POST /analyze (HTML report page)")
    ap.add_argument("--message", default=str(ROOT / "examples" / "onedrive-microsoftemails.eml"))
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    if not 0 < args.requests <= 1_000_000 or not 0 < args.concurrency <= 256:
        ap.error("--requests must be 1..1000000 and --concurrency 1..256")

    raw = Path(args.message).read_bytes()
    port = free_port()
    cmd = [sys.executable, "-m", "mailsleuth.cli", "serve", "--offline", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                err = server.stderr.read().decode(errors="replace") if server.stderr else ""
                print(f"server exited early: {err}", file=sys.stderr)
                return 1
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                print("server did not start", file=sys.stderr)
                return 1
            time.sleep(0.1)

        # one warm-up request (imports, data files), not counted
        httpx.post(base + "/api/analyze", content=raw, timeout=30)
        rss_before = proc_status(server.pid).get("VmRSS", 0)

        peak_sampled = rss_before
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_sampled
            while not stop.is_set():
                peak_sampled = max(peak_sampled, proc_status(server.pid).get("VmRSS", 0))
                stop.wait(0.01)

        latencies: list[float] = []
        errors: dict[str, int] = {}
        lock = threading.Lock()
        remaining = [args.requests]

        def client() -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                while True:
                    with lock:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    t0 = time.perf_counter()
                    try:
                        if args.endpoint == "api":
                            r = c.post("/api/analyze", content=raw, headers={"Content-Type": "message/rfc822"})
                        else:
                            r = c.post("/analyze", files={"file": ("m.eml", raw)})
                        ok = r.status_code == 200
                        key = str(r.status_code)
                    except httpx.HTTPError as exc:
                        ok, key = False, type(exc).__name__
                    dt = (time.perf_counter() - t0) * 1000
                    with lock:
                        if ok:
                            latencies.append(dt)
                        else:
                            errors[key] = errors.get(key, 0) + 1

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        workers = [threading.Thread(target=client) for _ in range(args.concurrency)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        status = proc_status(server.pid)
        server_cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    lat = sorted(latencies)
    figures = {
        "requests": args.requests, "concurrency": args.concurrency, "endpoint": args.endpoint,
        "ok": len(lat), "errors": errors, "seconds": round(elapsed, 2),
        "throughput_rps": round(len(lat) / elapsed, 1) if elapsed else None,
        "latency_ms": {"p50": round(percentile(lat, 0.50), 1), "p90": round(percentile(lat, 0.90), 1),
                       "p99": round(percentile(lat, 0.99), 1), "max": round(lat[-1], 1) if lat else None,
                       "mean": round(statistics.fmean(lat), 1) if lat else None},
        "server_rss_mib": {"before": round(rss_before / 1024, 1), "peak_sampled": round(peak_sampled / 1024, 1),
                           "peak_vmhwm": round(status.get("VmHWM", 0) / 1024, 1)},
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(lat)), 2),
        "cpus": os.cpu_count(), "message_bytes": len(raw), "dns": "offline",
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        lm, mem = figures["latency_ms"], figures["server_rss_mib"]
        print(f"{figures['ok']}/{args.requests} analyses ok via {args.endpoint} at {args.concurrency} concurrent "
              f"clients in {figures['seconds']} s ({figures['throughput_rps']} req/s), offline, loopback")
        print(f"latency ms: p50 {lm['p50']}  p90 {lm['p90']}  p99 {lm['p99']}  max {lm['max']}  mean {lm['mean']}")
        print(f"server RSS MiB: before {mem['before']}  peak sampled {mem['peak_sampled']}  "
              f"high-water mark (VmHWM) {mem['peak_vmhwm']}")
        print(f"server CPU per request: {figures['server_cpu_ms_per_request']} ms "
              f"({figures['cpus']} CPUs shared by server and clients)")
        if errors:
            print(f"errors: {errors}")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
