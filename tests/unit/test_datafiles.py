from __future__ import annotations

import pytest

from mailsleuth.datafiles import load_data_toml
from mailsleuth.errors import DataError


def test_reads_a_packaged_file():
    data = load_data_toml("scoring", "_verdict.toml")
    assert data["thresholds"]["phishing"] > data["thresholds"]["suspicious"]


def test_missing_file_is_a_data_error_naming_it():
    with pytest.raises(DataError, match=r"data/body/absent\.toml"):
        load_data_toml("body", "absent.toml")
