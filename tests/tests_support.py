"""Small helpers shared by tests."""

import numpy as np

from sidecar.audio.decode import Audio


def audio_of(x: np.ndarray, rate: int = 48000) -> Audio:
    x = np.asarray(x, dtype=np.float32)
    return Audio(x if x.ndim == 2 else x[:, None], rate)


def journaled_riff_write(journal, path, record, **kwargs):
    """riff.write after the journal keeps the original, as the pipeline's write step does."""
    from sidecar import formats
    from sidecar.metadata import riff
    journal.record_original(path, formats.WAV)
    return riff.write(path, record, **kwargs)
