"""The CLI as a user runs it: exit codes, formats, standard input, the JSON schema's top level."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXE = [sys.executable, "-m", "mailsleuth.cli"]
EML = ROOT / "examples" / "onedrive-microsoftemails.eml"
DNS = ROOT / "examples" / "onedrive-microsoftemails.dns"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*EXE, *args], input=stdin, capture_output=True, timeout=120, cwd=ROOT, check=False)


def test_json_top_level_schema():
    p = run("analyze", str(EML), "--dns-snapshot", str(DNS), "--json", "--now", "2026-01-01T00:00:00+00:00")
    assert p.returncode == 0, p.stderr.decode()
    data = json.loads(p.stdout)
    for key in ("schema", "message", "hops", "authentication", "spam_filters", "identities", "dns", "findings",
                "verdict"):
        assert key in data, key
    assert data["schema"] == "mailsleuth.report/1"
    assert {"label", "confidence", "summary"} <= data["verdict"].keys()
    assert data["dns"]["mode"] == "snapshot"
    assert data["analysed_at"].startswith("2026-01-01")


def test_stdin_and_text_report():
    p = run("analyze", "-", "--offline", stdin=EML.read_bytes())
    assert p.returncode == 0, p.stderr.decode()
    out = p.stdout.decode()
    assert out.index("Verdict:") < out.index("Findings")
    assert "\x1b[" not in out  # no colour codes without a TTY


def test_unusable_input_and_bad_arguments_exit_2(tmp_path):
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    cases = [
        ("analyze", str(empty)),
        ("analyze", str(tmp_path / "missing.eml")),
        ("analyze", str(tmp_path)),
        ("analyze", str(EML), "--ip", "not-an-ip"),
        ("analyze", str(EML), "--dns-snapshot", str(tmp_path / "nope.dns")),
        ("analyze", str(EML), "--no-such-flag"),
        ("frobnicate",),
    ]
    for args in cases:
        p = run(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        err = p.stderr.decode()
        assert err.startswith("mailsleuth: ") and "Traceback" not in err, (args, err)
        assert err.count("\n") == 1, (args, err)


def test_output_file_and_record_dns(tmp_path):
    out = tmp_path / "r.json"
    rec = tmp_path / "seen.dns"
    p = run("analyze", str(EML), "--dns-snapshot", str(DNS), "--json", "-o", str(out), "--record-dns", str(rec))
    assert p.returncode == 0 and p.stdout == b""
    first = json.loads(out.read_text())
    assert rec.exists()
    # Replaying what was recorded gives the same DNS evidence and verdict.
    p2 = run("analyze", str(EML), "--dns-snapshot", str(rec), "--json")
    second = json.loads(p2.stdout)
    assert [(q["name"], q["rdtype"], q["status"], q["records"]) for q in first["dns"]["queries"]] == \
        [(q["name"], q["rdtype"], q["status"], q["records"]) for q in second["dns"]["queries"]]
    assert first["verdict"]["label"] == second["verdict"]["label"]
