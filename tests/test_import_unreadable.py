"""`import-sidecars` names every sidecar it cannot read, one line each with the reason."""

import json
import os

import audiogen
from conftest import run_sidecar


def test_every_unreadable_sidecar_gets_one_line_with_its_reason(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    lib.mkdir()
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "i.db"))
    good = audiogen.write(str(lib / "good"), "wav16")
    assert run_sidecar("scan", str(lib), "--json").returncode == 0
    document = open(good + ".xml", "rb").read()
    broken = {
        "unclosed.wav.xml": document[: document.rindex(b"</SFXSidecar>")],
        "cut in a tag.wav.xml": document[: len(document) // 2],
        "empty.wav.xml": b"",
        "binary.wav.xml": bytes(range(256)),
    }
    for name, data in broken.items():
        audiogen.write(str(lib / name[:-8]), "wav16")
        (lib / name).write_bytes(data)
    result = run_sidecar("import-sidecars", str(lib), "--json")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    for name in broken:
        mine = [line for line in lines if name in line]
        assert len(mine) == 1, (name, lines)
        assert ":" in mine[0].split(name, 1)[1]                     # the reason follows the name
    rows = json.loads(result.stdout)
    assert sorted(os.path.basename(r["sidecar"]) for r in rows if r["status"] == "failed") == sorted(broken)
