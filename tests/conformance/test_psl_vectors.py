"""The Public Suffix List organizational-domain vectors (78) against mailsleuth.domains.org_domain,
the RFC 7489 organizational domain. Run: ``.venv/bin/python -m pytest -q tests/conformance/test_psl_vectors.py -s``."""

from __future__ import annotations

import re

import pytest

from mailsleuth.domains import org_domain, to_ascii
from tests.conftest import CONFORMANCE

PSL_FILE = CONFORMANCE / "psl-org-domain" / "test_psl.txt"
_LINE = re.compile(r"checkPublicSuffix\((null|'[^']*'),\s*(null|'[^']*')\);")

# Vectors whose input is outside what a DMARC organizational domain is asked about.
SKIP: dict[str, str] = {}


def load() -> list[tuple[str | None, str | None]]:
    if not PSL_FILE.exists():
        return []
    out = []
    for line in PSL_FILE.read_text(encoding="utf-8").splitlines():
        m = _LINE.search(line)
        if m and not line.lstrip().startswith("//"):
            a, b = (None if g == "null" else g[1:-1] for g in m.groups())
            out.append((a, b))
    return out


VECTORS = load()


def got(inp: str | None) -> str | None:
    """org_domain() answers in U-labels; the vectors expect the form of the input (A-labels in, A-labels out)."""
    if inp is None:
        return None
    out = org_domain(inp)
    if out is not None and "xn--" in inp.lower():
        out = to_ascii(out)
    return out


@pytest.mark.parametrize(("inp", "want"), VECTORS, ids=[str(v[0]) for v in VECTORS])
def test_psl_vector(inp: str | None, want: str | None) -> None:
    if str(inp) in SKIP:
        pytest.skip(SKIP[str(inp)])
    assert got(inp) == want


def test_psl_summary(capsys: pytest.CaptureFixture[str]) -> None:
    if not VECTORS:
        pytest.skip("../shared/conformance is not available")
    bad = [(i, w, got(i)) for i, w in VECTORS if str(i) not in SKIP and got(i) != w]
    with capsys.disabled():
        print(f"\nPSL org-domain vectors: {len(VECTORS) - len(bad) - len(SKIP)}/{len(VECTORS)} passed, "
              f"{len(SKIP)} skipped")
        for i, w, g in bad:
            print(f"  FAILED {i!r}: got {g!r}, want {w!r}")
    assert len(VECTORS) == 78
    assert not bad
