"""The aisfx checkpoint, found and read without torch.

`aisfx/models/checkpoint.pth` is a torch zip archive: `archive/data.pkl`, a
pickle of `(state_dict, datasets)`, and one raw little-endian file per tensor
storage under `archive/data/`. The pickle is read by an unpickler that knows
only the handful of names such a checkpoint uses (tensors are rebuilt as
numpy views of their storage); any other name is refused, so a tampered file
cannot run code. The package is located through its installed file list:
importing aisfx would import torch.
"""

from __future__ import annotations

import codecs
import collections
import importlib.metadata
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from sidecar.errors import SidecarError

DISTRIBUTION = "aisfx"
VERSION = "0.1.2"
CHECKPOINT = "aisfx/models/checkpoint.pth"
INSTALL_HINT = f"install it with `make install` (or: pip install --no-deps {DISTRIBUTION}=={VERSION})"
REINSTALL_HINT = f"reinstall it with: pip install --force-reinstall --no-deps {DISTRIBUTION}=={VERSION}"

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class ModelUnavailable(SidecarError):
    """The embedding network cannot be loaded; str() is the one line a person reads."""


def locate() -> Path:
    """The checkpoint file of the installed aisfx distribution."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelUnavailable(f"the sounds-like model (aisfx {VERSION}) is not installed: {INSTALL_HINT}") from None
    for entry in dist.files or ():
        if str(entry).replace("\\", "/") == CHECKPOINT:
            path = Path(dist.locate_file(entry))
            if path.is_file():
                return path
            break
    raise ModelUnavailable(f"aisfx {dist.version} is installed without {CHECKPOINT}: {REINSTALL_HINT}")


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_ignored) -> np.ndarray:
    if not size:
        return np.array(storage[offset])
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                           strides=tuple(s * item for s in stride), writeable=False)
    return np.ascontiguousarray(view)


def _numpy_scalar(dtype: np.dtype, data: bytes = b"") -> np.generic:
    return np.frombuffer(data, dtype=dtype, count=1)[0]


class _StorageType:
    def __init__(self, name: str):
        self.dtype = _STORAGE_DTYPES[name]


class _Unpickler(pickle.Unpickler):
    """Only what a state-dict checkpoint holds; tensors come from the archive's storages."""

    _ALLOWED = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "scalar"): _numpy_scalar,
        ("numpy._core.multiarray", "scalar"): _numpy_scalar,
        ("_codecs", "encode"): codecs.encode,
    }

    def __init__(self, archive: zipfile.ZipFile, prefix: str, data: bytes):
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._prefix = prefix
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return self._ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        if key not in self._storages:
            raw = self._archive.read(f"{self._prefix}data/{key}")
            array = np.frombuffer(raw, dtype=np.dtype(storage_type.dtype).newbyteorder("<"))
            if array.size != numel:
                raise pickle.UnpicklingError(f"storage {key} holds {array.size} values, not {numel}")
            self._storages[key] = array
        return self._storages[key]


def read(path: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of the checkpoint's state dict, by name, as float32/int64 numpy arrays."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise ValueError("no data.pkl in the archive")
            prefix = pickles[0][: -len("data.pkl")]
            loaded = _Unpickler(archive, prefix, archive.read(pickles[0])).load()
    except (OSError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError, KeyError, TypeError,
            EOFError, IndexError, AttributeError) as exc:
        raise ModelUnavailable(f"{path}: not a readable aisfx checkpoint ({exc}); {REINSTALL_HINT}") from None
    state = loaded[0] if isinstance(loaded, tuple) else loaded
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise ModelUnavailable(f"{path}: not a state dict of tensors; {REINSTALL_HINT}")
    return dict(state)
