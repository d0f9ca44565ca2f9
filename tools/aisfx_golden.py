"""Golden embeddings of the aisfx network, computed by its own torch code.

Run once, in a throwaway environment that has torch (never a dependency of
SFX Sidecar), to (re)make the fixture the tests compare the numpy forward
pass with:

    python3 -m venv /tmp/torchref
    /tmp/torchref/bin/pip install torch==2.13.0 numpy
    /tmp/torchref/bin/pip install --no-deps aisfx==0.1.2
    /tmp/torchref/bin/python tools/aisfx_golden.py tests/data/aisfx_golden.npz

The inputs are made by golden_inputs() below from formulas alone (no random
generator whose stream could change between numpy versions), so the tests
rebuild them without the fixture having to carry them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys

import numpy as np

TIME, MEL = 100, 96


def golden_inputs() -> np.ndarray:
    """Five (100, 96) blocks in [0, 1] shaped like log-mel spectrograms, float32."""
    t = np.arange(TIME, dtype=np.float64)[:, None]
    f = np.arange(MEL, dtype=np.float64)[None, :]
    silence = np.zeros((TIME, MEL))
    harmonics = 0.15 + 0.6 * (np.cos(2 * np.pi * f / 12.0) > 0.9) * np.exp(-f / 60.0) * (1 + 0 * t)
    sweep = 0.1 + 0.7 * np.exp(-((f - (10 + 0.75 * t)) ** 2) / 8.0)
    clicks = np.where(t % 17 < 2, 0.8 - 0.004 * f, 0.05 + 0 * f)
    # an integer hash: noise that is the same on every machine and numpy version
    idx = (t * MEL + f).astype(np.uint64)
    hashed = (idx * np.uint64(2654435761) + np.uint64(12345)) % np.uint64(2 ** 32)
    noise = 0.3 + 0.5 * (hashed.astype(np.float64) / 2 ** 32)
    return np.stack([silence, harmonics, sweep, clicks, noise]).astype(np.float32)


def _reference_network():
    import torch

    dist = importlib.metadata.distribution("aisfx")
    files = {str(p).replace("\\", "/"): p for p in dist.files}
    source = dist.locate_file(files["aisfx/models/cnn2d.py"])
    weights = dist.locate_file(files["aisfx/models/checkpoint.pth"])
    # the module file alone: the package's __init__ pulls in librosa and tqdm
    spec = importlib.util.spec_from_file_location("aisfx_cnn2d", source)
    cnn2d = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cnn2d)
    state, _datasets = torch.load(weights, map_location="cpu", weights_only=False)
    net = cnn2d.EmbeddingNet("max", 3, 1, 64)     # as aisfx.inference.load_bestModel builds it
    prefix = "embedding_net."
    net.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    net.eval()
    return net, torch


def main(out: str) -> None:
    net, torch = _reference_network()
    inputs = golden_inputs()
    with torch.no_grad():
        as_float32 = net(torch.from_numpy(inputs)).numpy()
        as_float64 = net.double()(torch.from_numpy(inputs.astype(np.float64))).numpy()
    np.savez_compressed(out, embeddings=as_float64.astype(np.float32),
                        float32_embeddings=as_float32, torch_version=np.array(torch.__version__))
    print(f"{out}: {inputs.shape[0]} embeddings of {as_float64.shape[1]} values; "
          f"float32 vs float64 reference differ by at most {np.abs(as_float32 - as_float64).max():.2e}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/aisfx_golden.npz")
