"""Small helpers shared by tests."""

import numpy as np

from sidecar.audio.decode import Audio


def audio_of(x: np.ndarray, rate: int = 48000) -> Audio:
    x = np.asarray(x, dtype=np.float32)
    return Audio(x if x.ndim == 2 else x[:, None], rate)
