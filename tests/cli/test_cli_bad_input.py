"""The real CLI on bad input (issue 2): exit 2 with one line on stderr, or a report (exit 0);
never a traceback, never a hang. Files are generated in tmp_path."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXE = ROOT / ".venv" / "bin" / "mailsleuth"
LIMIT_S = 30.0  # wall clock for one run, start-up included; "a few seconds" on an idle machine

HEAD = b"From: a@example.com\nTo: b@example.org\nSubject: s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMIME-Version: 1.0\n"


def nested(levels: int) -> bytes:
    out = [HEAD + b'Content-Type: multipart/mixed; boundary="b0"\n\n']
    out.extend(f'--b{i - 1}\nContent-Type: multipart/mixed; boundary="b{i}"\n\n'.encode() for i in range(1, levels))
    out.append(f"--b{levels - 1}\nContent-Type: text/plain\n\ndeep\n".encode())
    out.extend(f"--b{i}--\n".encode() for i in range(levels - 1, -1, -1))
    return b"".join(out)


CASES: dict[str, tuple[bytes, int]] = {
    "empty": (b"", 2),
    "binary": (random.Random(7).randbytes(20_000), 2),
    "not-mail": (b"Shopping list\n- eggs\n- milk\n\nnothing else here\n" * 20, 2),
    "truncated-headers": (b"Received: from a.example.net ([192.0.2.1])\n\tby mx.example.com;\nFrom: x <x@exa", 0),
    "8bit-garbage": (b"From: \xff\xfe <x@\xe9.example>\nSubject: \x80\x81\xc3\x28\n\n" + bytes(range(128, 256)) * 50, 0),
    "received-10000": (b"".join(b"Received: from h%d.example.net ([192.0.2.1]) by mx.example.com; Mon, 1 Jan 2024"
                                b" 00:00:00 +0000\n" % i for i in range(10_000)) + HEAD + b"\nbody\n", 0),
    "nested-1000": (nested(1000), 0),
}


def run_cli(path: Path) -> tuple[subprocess.CompletedProcess[bytes], float]:
    t0 = time.monotonic()
    proc = subprocess.run([str(EXE), "analyze", str(path), "--offline"], capture_output=True, timeout=120,
                          cwd=ROOT, check=False)
    return proc, time.monotonic() - t0


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_cli(tmp_path: Path, name: str) -> None:
    data, code = CASES[name]
    path = tmp_path / f"{name}.eml"
    path.write_bytes(data)
    proc, elapsed = run_cli(path)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err
    assert proc.returncode == code, err
    if code == 2:
        assert err.startswith("mailsleuth: ") and err.count("\n") == 1
        assert proc.stdout == b""
    else:
        assert b"Verdict:" in proc.stdout
    assert elapsed < LIMIT_S


def test_fifty_megabyte_message_cli(tmp_path: Path) -> None:
    path = tmp_path / "big.eml"
    with path.open("wb") as fh:
        fh.write(HEAD + b"Content-Type: text/plain\n\n")
        line = b"z" * 99 + b"\n"
        fh.write(line * (50 * 1024 * 1024 // len(line)))
    proc, elapsed = run_cli(path)
    assert "Traceback" not in proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0
    assert b"INPUT_MIME_LIMIT" in proc.stdout
    assert elapsed < LIMIT_S
