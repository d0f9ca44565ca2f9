"""The sounds-like network's graph is built once into the model cache: a later start (a real
subprocess) imports no onnx and gives the same vectors, equal to the reference network's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "aisfx_golden.npz"

# embeds the golden inputs and a generated sweep; reports vectors and whether onnx was imported
PROGRAM = r"""
import importlib.util, json, sys
import numpy as np
from sidecar.similarity.embedder import Embedder
spec = importlib.util.spec_from_file_location("g", sys.argv[1])
g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)
e = Embedder.load()
rate = 22050
t = np.arange(int(rate * 3.0)) / rate
sweep = (0.3 * np.sin(2 * np.pi * (200 + 800 * t) * t)).astype(np.float32)
print(json.dumps({"backend": e.net.backend, "onnx": "onnx" in sys.modules,
                  "golden": e.embed_blocks(g.golden_inputs()).tolist(),
                  "sweep": e.embed(sweep, rate).vector.tolist()}))
"""


def _start(cache: Path) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env.pop("SIDECAR_AISFX_CHECKPOINT", None)
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(ROOT / "tools" / "aisfx_golden.py")],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_second_start_uses_the_cached_graph_without_onnx(tmp_path):
    cache = tmp_path / "cache"
    first = _start(cache)
    folders = list((cache / "sfx-sidecar" / "models").glob("aisfx-*"))
    assert len(folders) == 1 and (folders[0] / "aisfx.onnx").is_file()
    facts = json.loads((folders[0] / "facts.json").read_text())
    assert facts["embedding_size"] == 512
    assert first["backend"] == "onnxruntime" and first["onnx"] is True   # built this time

    second = _start(cache)
    assert second["backend"] == "onnxruntime"
    assert second["onnx"] is False                                        # read from the cache
    assert second["golden"] == first["golden"] and second["sweep"] == first["sweep"]
    reference = np.load(GOLDEN)["embeddings"]
    assert np.abs(np.array(second["golden"]) - reference).max() < 1e-4
    assert np.linalg.norm(second["sweep"]) > 0.5


def test_a_damaged_cached_graph_is_built_again(tmp_path):
    cache = tmp_path / "cache"
    first = _start(cache)
    graph = next((cache / "sfx-sidecar" / "models").glob("aisfx-*")) / "aisfx.onnx"
    graph.write_bytes(b"not a graph")
    again = _start(cache)
    assert again["onnx"] is True and again["golden"] == first["golden"]
    assert graph.stat().st_size > 1000
