"""The scan and search commands end to end: synonyms, show, several MAX containers, errors."""

import pytest
import json

from mutagen.flac import FLAC

import audiogen
from conftest import free_port, run_sidecar

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels


def _flac_with_keyword(path, keyword):
    audiogen.write(str(path), "flac", audiogen.clicks(1.0))
    f = FLAC(str(path) + ".flac")
    f["KEYWORDS"] = [keyword]
    f.save()
    return str(path) + ".flac"


def _paths(result):
    assert result.returncode == 0, result.stderr
    return [h["path"] for h in json.loads(result.stdout)]


def test_synonyms_at_write_time_and_at_search_time(tmp_path):
    db = str(tmp_path / "i.db")
    expanded = _flac_with_keyword(tmp_path / "lib" / "expanded", "clapping")
    literal = _flac_with_keyword(tmp_path / "plain" / "literal", "clapping")
    assert run_sidecar("scan", str(tmp_path / "lib"), "--db", db).returncode == 0
    assert run_sidecar("scan", str(tmp_path / "plain"), "--db", db, "--no-synonyms").returncode == 0
    # write time: the synonym is in the file's own keywords
    assert "applause" in FLAC(expanded)["KEYWORDS"][0].split(", ")
    assert "applause" not in FLAC(literal)["KEYWORDS"][0].split(", ")
    # search time: "applause" also finds the file that only says "clapping"; --literal does not
    assert sorted(_paths(run_sidecar("search", "applause", "--json", "--db", db))) == sorted([expanded, literal])
    assert _paths(run_sidecar("search", "applause", "--literal", "--json", "--db", db)) == [expanded]


def test_show_reads_back_every_container(tmp_path):
    db = str(tmp_path / "i.db")
    path = audiogen.write(str(tmp_path / "lib" / "DOORWood_Creak Open_JD_MyLib"), "wav24_96k")
    assert run_sidecar("scan", str(tmp_path / "lib"), "--db", db).returncode == 0
    out = run_sidecar("show", path, "--json", "--db", db)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    row = doc["index"]
    assert row["CatID"] == "DOORWood" and row["Category"] == "DOORS" and row["SubCategory"] == "WOOD"
    assert row["FXName"] == "Creak Open" and row["Designer"] == "JD" and row["Library"] == "MyLib"
    riff = doc["containers"]["riff"]
    assert riff["bext"]["Description"] == row["Description"]
    assert riff["iXML"]["USER/CATID"] == "DOORWood"
    assert doc["containers"]["tags"]["CatID"] == "DOORWood"
    assert doc["containers"]["sidecar"]["fields"]["CatID"] == "DOORWood"
    human = run_sidecar("show", path, "--db", db)
    assert "[riff]" in human.stdout and "DOORWood" in human.stdout


def test_scan_through_two_max_containers_one_dead(tmp_path, serve_max):
    for i in range(4):
        audiogen.write(str(tmp_path / "lib" / f"tone {i}"), "wav16", audiogen.tone(200 + 100 * i, 0.5))
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_sidecar("scan", str(tmp_path / "lib"), "--json", "--db", str(tmp_path / "i.db"),
                         "--classifier", "max", "--max-url", dead, "--max-url", serve_max.url, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["classified"] == 4
    assert dead in result.stderr          # the skipped container is named once, as a warning


def test_max_that_cannot_be_reached_is_one_clear_line(tmp_path):
    audiogen.write(str(tmp_path / "lib" / "tone"), "wav16")
    url = f"http://127.0.0.1:{free_port()}"
    result = run_sidecar("scan", str(tmp_path / "lib"), "--db", str(tmp_path / "i.db"),
                         "--classifier", "max", "--max-url", url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "docker compose up max" in lines[0]


def test_usage_errors_exit_2(tmp_path):
    assert run_sidecar("scan", str(tmp_path), "--policy", "overwrite-all").returncode == 2
    assert run_sidecar("scan", str(tmp_path), "--classifier", "max").returncode == 2      # no URL
    result = run_sidecar("search", "door", "--db", str(tmp_path / "i.db"))
    assert result.returncode == 2 and "no index" in result.stderr     # a typo never creates an index
    assert not (tmp_path / "i.db").exists()
    (tmp_path / "empty").mkdir()
    assert run_sidecar("scan", str(tmp_path / "empty"), "--db", str(tmp_path / "i.db")).returncode == 0
    result = run_sidecar("search", '"unbalanced', "--db", str(tmp_path / "i.db"))
    assert result.returncode == 2 and "quote" in result.stderr


def test_search_json_is_one_array_best_first(tmp_path):
    db = str(tmp_path / "i.db")
    (tmp_path / "empty").mkdir()
    assert run_sidecar("scan", str(tmp_path / "empty"), "--db", db).returncode == 0
    assert json.loads(run_sidecar("search", "nothing", "--json", "--db", db).stdout) == []


def test_read_only_root_gets_mirrored_sidecars_and_untouched_files(tmp_path):
    lib = tmp_path / "delivered"
    path = audiogen.write(str(lib / "Pack" / "whoosh"), "wav16", audiogen.noise(0.5))
    original = open(path, "rb").read()
    mirror = tmp_path / "sidecars"
    config = tmp_path / "sidecar.toml"
    config.write_text(f'[[roots]]\npath = "{lib}"\nsidecar_mirror = "{mirror}"\nread_only = true\n')
    result = run_sidecar("scan", str(lib), "--json", "--db", str(tmp_path / "i.db"),
                         env={"SIDECAR_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert open(path, "rb").read() == original
    assert not (lib / "Pack" / "whoosh.wav.xml").exists()
    assert (mirror / "Pack" / "whoosh.wav.xml").exists()
    hits = json.loads(run_sidecar("search", "noisy", "--json", "--db", str(tmp_path / "i.db")).stdout)
    assert [h["path"] for h in hits] == [path]
