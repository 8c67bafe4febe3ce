from __future__ import annotations

import pytest

from mailsleuth.config import load_config
from mailsleuth.errors import ConfigError


def test_file_then_environment(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text('[mailsleuth]\ntrusted_authserv_ids = ["mx.example.com"]\ndns_mode = "off"\n'
                 "[mailsleuth.limits]\nmax_links = 10\n")
    cfg = load_config(f, env={"MAILSLEUTH_OWN_DOMAINS": "example.com, example.org", "MAILSLEUTH_RDAP": "yes"})
    assert cfg.trusted_authserv_ids == ("mx.example.com",)
    assert cfg.dns_mode == "off" and cfg.limits.max_links == 10
    assert cfg.own_domains == ("example.com", "example.org") and cfg.rdap is True


@pytest.mark.parametrize("text, words", [
    ("nonsense = 1\n", "unknown setting"),
    ('dns_mode = "sometimes"\n', "dns_mode"),
    ("trusted_relays = 5\n", "list of strings"),
    ("[limits]\nbogus = 1\n", "unknown limit"),
    ("this is = = not toml", "not valid TOML"),
])
def test_bad_config_is_a_clear_error(tmp_path, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_config(f, env={})


def test_missing_file_named_explicitly(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml", env={})
