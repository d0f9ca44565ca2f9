"""HOME anywhere: a home the process cannot write into (a service account's, read-only, missing)."""

import json

import audiogen
from conftest import run_sidecar


def test_a_home_without_a_writable_cache_still_names_sounds(tmp_path):
    """The model is unpacked into a private folder when ~/.cache cannot hold it; a file named as
    HOME makes that so for root too."""
    home = tmp_path / "home"
    home.write_text("a file, not a folder")
    audiogen.write(str(tmp_path / "lib" / "tone"), "wav16", audiogen.tone(1000, 2))
    result = run_sidecar("scan", str(tmp_path / "lib"), "--json", "--db", str(tmp_path / "i.db"),
                         env={"HOME": str(home), "XDG_CACHE_HOME": ""})
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["engine"].startswith("embedded"), (doc["engine"], result.stderr)
    assert "cannot unpack" not in result.stderr
    assert home.read_text() == "a file, not a folder"
