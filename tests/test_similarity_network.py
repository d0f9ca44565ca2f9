"""The aisfx network without torch: its checkpoint read safely, its forward pass equal to the
reference network's (golden embeddings made by tools/aisfx_golden.py with torch), its front end."""

from __future__ import annotations

import importlib.util
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sidecar.audio.logmel import hz_to_mel, mel_to_hz
from sidecar.similarity import checkpoint, melspec, network
from sidecar.similarity.embedder import Embedder

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "aisfx_golden.npz"


def _golden_inputs() -> np.ndarray:
    spec = importlib.util.spec_from_file_location("aisfx_golden", ROOT / "tools" / "aisfx_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.golden_inputs()


@pytest.fixture(scope="module")
def folded():
    return network.fold(checkpoint.read(checkpoint.locate()))


@pytest.mark.parametrize("backend", [lambda f: network.OnnxNet(network.graph_bytes(f)), network.NumpyNet],
                         ids=["onnxruntime", "numpy"])
def test_forward_pass_equals_the_reference_network(folded, backend):
    reference = np.load(GOLDEN)["embeddings"]
    out = backend(folded)(_golden_inputs())
    assert out.shape == reference.shape == (5, 512)
    assert np.abs(out - reference).max() < 1e-4
    # the inputs differ, and so do their embeddings: the comparison is not of constants
    assert np.abs(reference[1] - reference[2]).max() > 0.1


def test_a_batch_gives_what_single_blocks_give(folded):
    net = network.build(folded)
    inputs = _golden_inputs()
    one_by_one = np.concatenate([net(inputs[i:i + 1]) for i in range(len(inputs))])
    assert np.abs(net(inputs) - one_by_one).max() < 1e-5


def test_the_checkpoint_is_found_through_the_installed_file_list_without_importing_aisfx():
    import sys
    path = checkpoint.locate()
    assert path.name == "checkpoint.pth" and path.parent.name == "models"
    assert "aisfx" not in sys.modules and "torch" not in sys.modules


def test_only_the_embedding_weights_are_used(folded):
    assert [c.weight.shape[0] for convs in folded for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]


def _copy_checkpoint(tmp_path) -> Path:
    dest = tmp_path / "checkpoint.pth"
    shutil.copyfile(checkpoint.locate(), dest)
    return dest


def test_a_truncated_checkpoint_is_one_clear_line(tmp_path):
    bad = tmp_path / "checkpoint.pth"
    bad.write_bytes(checkpoint.locate().read_bytes()[:100_000])
    with pytest.raises(checkpoint.ModelUnavailable) as err:
        Embedder.load(str(bad))
    message = str(err.value)
    assert "\n" not in message and str(bad) in message and "pip install --force-reinstall --no-deps aisfx==0.1.2" in message


def test_a_pickle_naming_anything_else_is_refused_before_it_runs(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("should never run",))

    bad = tmp_path / "evil.pth"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(({"x": Evil()}, {}), protocol=2))
    with pytest.raises(checkpoint.ModelUnavailable, match=r"unexpected object \w+\.print"):
        checkpoint.read(bad)


def test_a_checkpoint_of_another_network_is_refused(tmp_path):
    state = checkpoint.read(checkpoint.locate())
    del state["embedding_net.conv_block3.conv2.weight"]
    with pytest.raises(ValueError, match="conv_block3.conv2.weight"):
        network.fold(state)


def test_front_end_puts_a_tone_in_its_mel_band():
    rate = 48000
    t = np.arange(rate * 2) / rate
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t)
    signal = melspec.prepare(np.stack([tone, tone], axis=1), rate)
    assert np.isclose(np.abs(signal).max(), 1.0, atol=1e-3)      # mono, peak-normalised
    assert abs(signal.size - 2 * melspec.SAMPLE_RATE) <= 1       # resampled to 44.1 kHz
    spec = melspec.log_mel(signal)
    assert spec.shape == (1 + signal.size // melspec.HOP, melspec.MEL_BANDS)
    band = int(spec[10:-10].mean(axis=0).argmax())
    edges = mel_to_hz(np.linspace(0, hz_to_mel(melspec.F_MAX), melspec.MEL_BANDS + 2))
    assert edges[band] < 1000 < edges[band + 2]
    assert 0 < spec.max() <= 1.2


def test_front_end_of_silence_is_zero_and_short_files_make_one_block():
    spec = melspec.log_mel(melspec.prepare(np.zeros(4410, np.float32), 44100))
    assert not spec.any()
    blocks, starts = melspec.blocks(spec)
    assert blocks.shape == (1, 100, 96) and list(starts) == [0.0]


def test_blocks_are_consecutive_and_a_long_file_is_thinned_evenly():
    spec = np.ones((1000, 96), np.float32)
    blocks, starts = melspec.blocks(spec)
    assert blocks.shape[0] == 10 and np.allclose(np.diff(starts), melspec.BLOCK_SECONDS)
    spec = np.ones((1030, 96), np.float32)          # a last piece of 30 frames is too short to count
    assert melspec.blocks(spec)[0].shape[0] == 10
    spec = np.ones((1060, 96), np.float32)          # one of 60 frames counts, zero-padded
    blocks, _ = melspec.blocks(spec)
    assert blocks.shape[0] == 11 and not blocks[-1, 60:].any()
    blocks, starts = melspec.blocks(np.ones((10000, 96), np.float32), max_blocks=5)
    assert blocks.shape[0] == 5 and starts[0] == 0 and starts[-1] == 99 * melspec.BLOCK_SECONDS


def test_a_file_vector_is_the_unit_mean_of_its_blocks():
    embedder = Embedder.load()
    rate = 44100
    x = (0.2 * np.random.default_rng(5).standard_normal(rate * 5)).astype(np.float32)
    emb = embedder.embed(x, rate)
    assert emb.blocks.shape == (2, 512) and emb.model == "aisfx-0.1.2"
    mean = emb.blocks.mean(axis=0)
    assert np.allclose(emb.vector, mean / np.linalg.norm(mean), atol=1e-6)
    silent = embedder.embed(np.zeros(rate, np.float32), rate)
    assert not silent.vector.any()
