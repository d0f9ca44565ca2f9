"""Search by meaning keeps its vectors in SQLite only: on a PostgreSQL index a scan is not
troubled by it and a search by meaning says so in one line."""

from __future__ import annotations

from conftest import run_sidecar
from daemon_support import tiny_wav


def test_a_postgresql_index_scans_quietly_and_refuses_meaning_in_one_line(tmp_path, pg_url):
    tiny_wav(tmp_path / "lib" / "a.wav", seed=1)
    env = {"SIDECAR_DB": pg_url}
    scan = run_sidecar("scan", "--classifier", "descriptors", str(tmp_path / "lib"), env=env)
    assert scan.returncode == 0, scan.stderr
    assert "meaning" not in scan.stderr
    plain = run_sidecar("search", "a", env=env)
    assert plain.returncode == 0, plain.stderr
    meaning = run_sidecar("search", "--meaning", "a dog barking", env=env)
    assert meaning.returncode == 2
    lines = [l for l in meaning.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "SQLite" in lines[0] and "Traceback" not in meaning.stderr, meaning.stderr
