"""The configuration file: what README shows works; typos and wrong types are one clear line, exit 2."""

import pytest

from conftest import run_sidecar
from sidecar import config
from sidecar.errors import ConfigError

README_EXAMPLE = """
[scan]
classifier = "embedded"
max_url = ["http://max:5000"]
jobs = 2
policy = "append"
expand_synonyms = true
vocabulary = "~/sfx-vocab.toml"

[write]
tags = true
riff = true
sidecar = true

[[roots]]
path = "/Volumes/SFX"
sidecar_mirror = "~/sidecars"
read_only = true
"""


def _load(tmp_path, text, monkeypatch):
    f = tmp_path / "sidecar.toml"
    f.write_text(text)
    monkeypatch.delenv("SIDECAR_VOCAB", raising=False)
    monkeypatch.delenv("SIDECAR_MAX_URL", raising=False)
    return config.load(str(f))


def test_the_readme_example_loads(tmp_path, monkeypatch):
    cfg = _load(tmp_path, README_EXAMPLE, monkeypatch).check()
    assert cfg.classifier == "embedded" and cfg.max_urls == ["http://max:5000"]
    assert not cfg.vocabulary.startswith("~")
    assert cfg.is_read_only("/Volumes/SFX/Doors/a.wav") and not cfg.is_read_only("/Volumes/SFXB/a.wav")
    assert cfg.mirror_for("/Volumes/SFX/a.wav")[1].endswith("sidecars")


@pytest.mark.parametrize("text, words", [
    ('[write]\ntags = "false"\n', ["write.tags", "true or false"]),
    ('[scan]\nexpand_synonyms = "false"\n', ["scan.expand_synonyms"]),
    ("[scan]\njobs = 2.7\n", ["scan.jobs", "integer"]),
    ("[scan]\njobs = true\n", ["scan.jobs"]),
    ("[scan]\njobz = 2\n", ["unknown key", "jobz"]),
    ("[scann]\njobs = 2\n", ["unknown key", "scann"]),
    ('scan = "x"\n', ["scan", "table"]),
    ('[roots]\npath = "/x"\n', ["roots", "list"]),
    ("[[roots]]\nread_only = true\n", ["needs a path"]),
    ("[scan]\nmax_url = 5000\n", ["max_url"]),
    ("[scan]\nvocabulary = 3\n", ["scan.vocabulary"]),
    ('[[roots]]\npath = "/x"\nread_only = "false"\n', ["read_only"]),
])
def test_wrong_keys_and_types_are_refused(tmp_path, monkeypatch, text, words):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text, monkeypatch)
    for word in words:
        assert word in str(err.value)


def test_a_bad_config_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[write]\ntags = "false"\n')
    (tmp_path / "lib").mkdir()
    result = run_sidecar("scan", str(tmp_path / "lib"), "--db", str(tmp_path / "i.db"),
                         env={"SIDECAR_CONFIG": str(bad)})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "write.tags" in result.stderr
