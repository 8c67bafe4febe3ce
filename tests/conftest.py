from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# ../shared next to the checkout (CI lays a copy of shared/ beside the clone).
SHARED = Path(os.environ.get("MAILSLEUTH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
CONFORMANCE = SHARED / "conformance"


@pytest.fixture(scope="session")
def example_eml() -> bytes:
    return (EXAMPLES / "onedrive-microsoftemails.eml").read_bytes()


@pytest.fixture(scope="session")
def example_dns_path() -> Path:
    return EXAMPLES / "onedrive-microsoftemails.dns"


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared missing)")
    return path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return need_shared(CORPUS)


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    return need_shared(CONFORMANCE)
