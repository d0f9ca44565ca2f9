"""What keeps a first scan's CPU down, checked on the real command: the measures and resamplers
never import scipy.signal (a second of import) nor pyloudnorm, and numpy's BLAS runs each product in
the worker that asked for it instead of starting threads of its own beside the scan's workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import audiogen

SCAN = """
import json, sys
from sidecar.cli import main
sys.argv = ["sidecar"] + sys.argv[1:]
status = None
try:
    main()
except SystemExit as exc:
    status = exc.code
import threadpoolctl
blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"]
print(json.dumps({"status": status, "blas": blas,
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "pyloudnorm"))}),
      file=sys.stderr)
"""


def test_a_first_scan_measures_without_scipy_signal_and_blas_threads(tmp_path):
    pytest.importorskip("threadpoolctl")
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "tone"), "wav16")
    audiogen.write(str(lib / "hi-res"), "wav24_96k")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", SCAN, "scan", str(lib), "--json", "--db", str(tmp_path / "i.db")],
                          capture_output=True, text=True, env=env, timeout=300)
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    assert seen["status"] == 0, done.stderr[-2000:]
    doc = json.loads(done.stdout)
    assert doc["classified"] == 2
    assert "scipy.fft" in seen["modules"]        # the log-mel front end's FFT: scipy is watched
    assert "scipy.signal" not in seen["modules"] and "pyloudnorm" not in seen["modules"], seen["modules"]
    assert seen["blas"] and set(seen["blas"]) == {1}, seen["blas"]
