"""A scan with nothing to classify creates no inference session: the models load only when a
file needs them. Sessions are counted by wrapping ONNX Runtime's constructor in the process that
runs the real command."""

from __future__ import annotations

import json
import subprocess
import sys

import audiogen
from conftest import run_sidecar

COUNTING_SCAN = """
import json, sys
import onnxruntime
made = []
real = onnxruntime.InferenceSession
class Counted(real):
    def __init__(self, *a, **k):
        made.append(str(a[0]) if a else "")
        super().__init__(*a, **k)
onnxruntime.InferenceSession = Counted
from sidecar.cli import main
sys.argv = ["sidecar"] + sys.argv[1:]
try:
    main()
except SystemExit as exc:
    print(json.dumps({"sessions": made, "status": exc.code}), file=sys.stderr)
"""


def _counted_scan(*args: str, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", COUNTING_SCAN, *args], capture_output=True, text=True,
                          env=env, timeout=300)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_a_rescan_of_an_unchanged_library_and_an_empty_folder_create_no_session(tmp_path):
    import os
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(3):
        audiogen.write(str(lib / f"t{i}"), "wav16")
    env = {**os.environ, "SIDECAR_DB": str(tmp_path / "index.db")}
    first = _counted_scan("scan", str(lib), env=env)
    assert first["status"] == 0 and first["sessions"], first          # files to hear: the model loads
    again = _counted_scan("scan", str(lib), env=env)
    assert again == {"sessions": [], "status": 0}, again               # nothing changed: nothing loads
    (tmp_path / "empty").mkdir()
    empty = _counted_scan("scan", str(tmp_path / "empty"), env=env)
    assert empty == {"sessions": [], "status": 0}, empty
    assert run_sidecar("search", "t0", env={"SIDECAR_DB": env["SIDECAR_DB"]}).returncode == 0


def test_the_name_known_without_loading_is_the_loaded_engines():
    import pytest
    from sidecar.classify.audioset import GENERATION, AudiosetEngine
    from sidecar.classify.yamnet_model import NUMERICS, installed_model_name
    for numerics in NUMERICS:
        assert AudiosetEngine(numerics=numerics).model_name == f"{installed_model_name(numerics)}/{GENERATION}"
    with pytest.raises(Exception, match="SIDECAR_NUMERICS"):
        installed_model_name("int4")


MODULES_AFTER = """
import json, sys
from sidecar.cli import main
sys.argv = ["sidecar"] + sys.argv[1:]
try:
    main()
except SystemExit as exc:
    print(json.dumps({"modules": sorted({m.split(".")[0] for m in sys.modules}), "status": exc.code}),
          file=sys.stderr)
"""
#: what takes a second or more to import and is needed only to hear, measure or compare sounds
HEAVY = {"onnxruntime", "scipy", "sklearn", "usearch", "pyloudnorm", "tokenizers"}


def _modules_of(*args: str, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", MODULES_AFTER, *args], capture_output=True, text=True,
                          env=env, timeout=300)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_a_rescan_and_a_search_import_nothing_heavy(tmp_path):
    """The command line imports a command's module when it runs: a rescan of unchanged files
    imports no model runtime nor signal processing, and a search not even numpy."""
    import os
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(2):
        audiogen.write(str(lib / f"t{i}"), "wav16")
    env = {**os.environ, "SIDECAR_DB": str(tmp_path / "index.db")}
    first = _modules_of("scan", str(lib), env=env)
    assert first["status"] == 0 and HEAVY & set(first["modules"]), first   # it heard them: the check can fail
    again = _modules_of("scan", str(lib), env=env)
    assert again["status"] == 0 and not HEAVY & set(again["modules"]), sorted(HEAVY & set(again["modules"]))
    found = _modules_of("search", "t0", env=env)
    assert found["status"] == 0 and not (HEAVY | {"numpy"}) & set(found["modules"]), found["status"]
