"""The sounds-like network's ONNX graph, built from the checkpoint once and kept in the model cache.

Building it (reading the checkpoint, folding batch norm, assembling the graph with
the onnx package) costs most of a second of CPU; later starts hand the cached file
straight to ONNX Runtime and import no onnx. The folder is keyed by the checkpoint's
digest and the graph's version, so a new checkpoint or a changed graph is built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from sidecar.classify.yamnet_model import model_cache_dir
from sidecar.similarity import checkpoint, network

GRAPH, FACTS = "aisfx.onnx", "facts.json"


def folder_for(checkpoint_path: str | os.PathLike) -> Path:
    digest = hashlib.sha256(Path(checkpoint_path).read_bytes()).hexdigest()[:16]
    return model_cache_dir() / f"aisfx-{digest}-v{network.GRAPH_VERSION}"


def load_net(checkpoint_path: str | os.PathLike, on_bad_checkpoint):
    """The fastest network for this checkpoint: the cached graph when there is one, else built
    (and cached when onnx is there to build it). on_bad_checkpoint(exc) raises for a checkpoint
    whose tensors do not fit the network."""
    try:
        folder = folder_for(checkpoint_path)
    except OSError as exc:
        raise checkpoint.ModelUnavailable(f"{checkpoint_path}: cannot read ({exc}); {checkpoint.REINSTALL_HINT}") from None
    graph, facts = folder / GRAPH, folder / FACTS
    if graph.is_file() and facts.is_file():
        try:
            return network.OnnxNet(str(graph))
        except ImportError:
            pass                                  # no onnxruntime: numpy below
        except Exception:                         # a damaged cache file is made again below
            pass
    try:
        blocks = network.fold(checkpoint.read(checkpoint_path))
    except ValueError as exc:
        on_bad_checkpoint(exc)
        raise
    try:
        payload = network.graph_bytes(blocks)
        import onnxruntime  # noqa: F401  (only cache what this installation can run)
    except ImportError:
        return network.NumpyNet(blocks)
    _write(folder, payload, checkpoint_path)
    return network.OnnxNet(payload)


def _write(folder: Path, payload: bytes, checkpoint_path) -> None:
    """Atomic files: another process may be building the same graph. A cache that cannot be
    written only costs the build again next time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        facts = {"checkpoint": str(checkpoint_path), "graph_version": network.GRAPH_VERSION,
                 "embedding_size": network.EMBEDDING_SIZE}
        for name, data in ((GRAPH, payload), (FACTS, json.dumps(facts).encode())):
            fd, tmp = tempfile.mkstemp(prefix=".build-", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / name)
    except OSError:
        pass
