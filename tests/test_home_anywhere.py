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


def test_a_cache_folder_someone_else_left_open_is_not_used(tmp_path, monkeypatch):
    """Without a writable home the model cache goes to a private folder in the temporary
    directory; one there already that others may write is passed over."""
    import os
    from sidecar.classify import yamnet_model
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    (tmp_path / "not-a-folder").write_text("a file, so the cache cannot be made here")
    monkeypatch.setattr(yamnet_model.tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / f"sfx-sidecar-{os.getuid()}"
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)
    folder = yamnet_model.model_cache_dir()
    assert planted not in folder.parents
    assert folder.stat().st_mode & 0o077 == 0


def test_a_shared_index_keeps_its_graphs_in_the_same_cache_folder_as_the_models(pg_url, tmp_path, monkeypatch):
    """A PostgreSQL index's approximate-search graphs live beside the models, under
    sfx-sidecar/ in the user's cache; with no writable cache, in the private folder."""
    import os
    import tempfile
    from sidecar.classify import yamnet_model
    from sidecar.index.store import open_store
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = open_store(pg_url)
    try:
        prefix = store.cache_prefix()
        assert prefix.parent.parent == tmp_path / "cache" / "sfx-sidecar" == yamnet_model.model_cache_dir().parent
        assert prefix.parent.name.startswith("index-") and prefix.parent.is_dir()
        (tmp_path / "file").write_text("a file, so the cache cannot be made here")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        private = store.cache_prefix().parent
        assert private.parent == tmp_path / f"sfx-sidecar-{os.getuid()}" and private.stat().st_mode & 0o077 == 0
    finally:
        store.close()
