"""How the AudioSet engine's three numeric paths differ across CPU code paths, and how fast each is.

Without arguments (as `make bench` runs it) it measures this CPU alone in a temporary folder. The whole
measurement, emulated CPUs included, is `benchmarks/bench_numerics.sh` beside this file, which runs
these steps (`.venv/bin/python benchmarks/bench_numerics.py STEP ...`):

Steps:
  patches OUT.npz       log-mel patches made once by the project's front end (sidecar.audio.logmel
                        .patches, after the engine's gain for quiet windows) from generated audio
                        (sox tones, noise, plucks, sweeps; espeak-ng speech), from the listening
                        corpus when it is built (~/.cache/sfx-sidecar/listening, LISTENING=...),
                        and random patches; every CPU scores exactly these
  graphs DIR            the two graphs the paths run, with a dynamic batch: qdq.onnx (the export as
                        shipped; `int8` runs it with graph optimisation, which fuses the Q/DQ pairs
                        into int8 kernels, `fakequant` with optimisation off, the Q/DQ pairs in float)
                        and float.onnx (the Q/DQ pairs removed)
  score DIR NPZ OUT     run every path on every patch, one clip's patches per run as the engine does
                        (random patches 32 a run), save the raw outputs and what the process saw of
                        its CPU; needs only numpy and onnxruntime, so it runs inside the emulators
  compare DIR NPZ OUT...  probability differences, threshold crossings and top-k changes of every
                        (path, CPU) against the native float reference and against the same path native
  speed DIR NPZ         ms per patch natively, one thread, batch 1 and batch 32
  kernels LOG...        the int8 instructions in qemu translation logs (`qemu-... -d in_asm -D LOG`):
                        x86 mnemonics as qemu prints them, arm64 dot product and matrix multiply
                        instructions by their encodings (qemu 7.2 prints those as words only)

ORT_CONFIG="key=value,..." adds ONNX Runtime session config entries to `score` and `speed` (e.g.
session.x64quantprecision=1, meant to avoid the u8s8 overflow on CPUs without VNNI; 1.32.0 fails to
load this graph with it).

`score` reproduces sidecar.classify.yamnet_model.YamnetModel.scores bit for bit (checked natively on
all three paths); it is written out here so that the emulated processes need no scipy, onnx or project.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PATHS = ("int8", "fakequant", "float")
CLASSES = 521
#: the vocabulary writes labels at or above this; the engine keeps those at or above KEEP
VOCABULARY = 0.1
KEEP = 0.05
RANDOM_BATCH = 32


def _project():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


# ---------------------------------------------------------------- patches

def _generated(folder: Path) -> list[tuple[str, Path]]:
    """Sounds whose answers the engine has an opinion about, made by sox and espeak-ng."""
    sox = {
        "sine_440": ["synth", "4", "sine", "440"],
        "sine_sweep": ["synth", "4", "sine", "100-6000"],
        "square_220": ["synth", "4", "square", "220", "vol", "0.3"],
        "white_noise": ["synth", "4", "whitenoise", "vol", "0.3"],
        "pink_noise": ["synth", "4", "pinknoise", "vol", "0.3"],
        "brown_noise": ["synth", "4", "brownnoise", "vol", "0.3"],
        "pluck_chord": ["synth", "4", "pluck", "E2", "pluck", "B2", "pluck", "E3", "pluck", "G#3",
                        "delay", "0", "0.05", "0.1", "0.15", "remix", "-", "fade", "0", "4", "2"],
        "beeps": ["synth", "0.15", "sine", "1000", "pad", "0", "0.35", "repeat", "7"],
        "clicks": ["synth", "0.01", "square", "50", "pad", "0", "0.24", "repeat", "15"],
        "trem_tone": ["synth", "4", "sine", "300", "tremolo", "6", "90"],
        "quiet_hum": ["synth", "4", "sine", "60", "sine", "120", "remix", "-", "vol", "0.002"],
    }
    speech = {
        "speech_en": ("en", "Take five. Rolling. Speed. Mark it, and action. The quick brown fox."),
        "speech_de": ("de", "Guten Morgen, das ist eine Aufnahme für die Geräuschbibliothek."),
        "speech_fr": ("fr", "Bonjour, ceci est un enregistrement pour la sonothèque."),
    }
    out = []
    for name, args in sox.items():
        path = folder / f"{name}.wav"
        # -R: the noise generators seeded alike on every run; -D: no random dither
        subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(path), *args], check=True)
        out.append((f"gen/{name}", path))
    for name, (voice, text) in speech.items():
        path = folder / f"{name}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
        out.append((f"gen/{name}", path))
    return out


def _listening() -> list[tuple[str, Path]]:
    folder = Path(os.environ.get("LISTENING", "~/.cache/sfx-sidecar/listening")).expanduser()
    manifest = folder / "manifest.tsv"
    if not manifest.is_file():
        print(f"(no listening corpus at {folder}: generated and random patches only)", file=sys.stderr)
        return []
    rows = [line.split("\t") for line in manifest.read_text(encoding="utf-8").splitlines()[1:] if line]
    return [(f"corpus/{Path(r[0]).stem}", folder / r[0]) for r in rows if (folder / r[0]).is_file()]


def make_patches(out: Path, per_clip: int, randoms: int) -> None:
    _project()
    from sidecar.audio.decode import decode
    from sidecar.audio.logmel import RATE, patches
    from sidecar.audio.pcm16 import prepare
    from sidecar.classify.audioset import _raised
    from sidecar.classify.base import WINDOW_SECONDS

    all_patches, clip_of, names = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in _generated(Path(tmp)) + _listening():
            mono = prepare(decode(str(path)), rate=RATE, mono=True).samples[:, 0]
            p = patches(_raised(mono[:int(WINDOW_SECONDS * RATE)]))    # the engine's first window
            pick = np.unique(np.linspace(0, len(p) - 1, min(per_clip, len(p))).round().astype(int))
            all_patches.append(p[pick])
            clip_of += [len(names)] * len(pick)
            names.append(name)
    rng = np.random.default_rng(20)
    # random patches spanning the export's input range (-6.9 .. 5.3): uniform, and smooth blobs
    uniform = rng.uniform(-6.9, 5.3, (randoms // 2, 96, 64))
    smooth = np.cumsum(rng.normal(0, 0.3, (randoms - randoms // 2, 96, 64)), axis=2) - 3.0
    for block, label in ((uniform, "random/uniform"), (smooth, "random/smooth")):
        all_patches.append(np.clip(block, -6.9, 5.3))
        clip_of += [len(names)] * len(block)
        names.append(label)
    x = np.concatenate(all_patches).astype(np.float32)
    np.savez_compressed(out, patches=x, clip=np.array(clip_of, dtype=np.int32), names=np.array(names))
    print(f"{out}: {len(x)} patches from {len(names)} clips")


# ---------------------------------------------------------------- graphs

def make_graphs(folder: Path) -> None:
    """The project's own converted graphs (sidecar.classify.yamnet_model._prepared), copied."""
    _project()
    from sidecar.classify import yamnet_model as ym
    zip_path, _ = ym.default_model_files()
    model = ym._unpack(zip_path)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, numerics in (("qdq", "int8"), ("float", "float")):
        graph, facts = ym._prepared(model, numerics)
        shutil.copyfile(graph, folder / f"{kind}.onnx")
    (folder / "facts.json").write_text(json.dumps(facts), encoding="utf-8")
    print(f"{folder}: qdq.onnx, float.onnx")


# ---------------------------------------------------------------- score (numpy + onnxruntime only)

def _session(folder: Path, path: str):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    for entry in filter(None, os.environ.get("ORT_CONFIG", "").split(",")):
        key, _, value = entry.partition("=")
        opts.add_session_config_entry(key, value)
    if path == "fakequant":
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    graph = folder / ("float.onnx" if path == "float" else "qdq.onnx")
    return ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])


def _encode(session, params: dict, x: np.ndarray) -> np.ndarray:
    """What YamnetModel._encode gives the session."""
    x = x.reshape(len(x), 1, 96, 64)
    if session.get_inputs()[0].type != "tensor(uint8)":
        return x.astype(np.float32)
    q = np.round(x / params["audio_scale"] + params["audio_zero_point"])
    return np.clip(q, 0, 255).astype(np.uint8)


def _runs(clip: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges run together: a clip's patches (the engine runs a window's patches at once);
    the random ones RANDOM_BATCH at a time."""
    runs, start = [], 0
    for i in range(1, len(clip) + 1):
        if i == len(clip) or clip[i] != clip[start] or i - start == RANDOM_BATCH:
            runs.append((start, i))
            start = i
    return runs


def _cpu_seen() -> dict:
    seen = {"machine": platform.machine(), "python": platform.python_version()}
    try:
        import onnxruntime as ort
        import numpy._core._multiarray_umath as um
        seen["onnxruntime"] = ort.__version__
        seen["numpy"] = np.__version__
        seen["numpy_cpu_features"] = sorted(k for k, v in um.__cpu_features__.items() if v)
    except Exception as exc:      # the record is informative only
        seen["error"] = str(exc)
    try:
        with open("/proc/self/auxv", "rb") as f:   # AT_HWCAP (16), AT_HWCAP2 (26) on arm64
            words = np.frombuffer(f.read(), dtype=np.uint64).reshape(-1, 2)
        seen["hwcap"] = {int(k): hex(int(v)) for k, v in words if int(k) in (16, 26)}
    except OSError:
        pass
    return seen


def score(folder: Path, npz: Path, out: Path, paths: list[str], label: str) -> None:
    data = np.load(npz)
    x, clip = data["patches"], data["clip"]
    params = json.loads((folder / "facts.json").read_text())["params"]
    result = {}
    timing = {}
    for path in paths:
        session = _session(folder, path)
        name = session.get_inputs()[0].name
        raw = []
        t0 = time.perf_counter()
        for a, b in _runs(clip):
            raw.append(session.run(None, {name: _encode(session, params, x[a:b])})[0].reshape(b - a, CLASSES))
        timing[path] = (time.perf_counter() - t0) * 1000 / len(x)
        result[path] = np.concatenate(raw)
        print(f"{label}: {path} {timing[path]:.1f} ms a patch", file=sys.stderr, flush=True)
    seen = _cpu_seen()
    seen["label"] = label
    seen["ms_per_patch"] = timing
    np.savez_compressed(out, seen=np.array(json.dumps(seen)), **result)


# ---------------------------------------------------------------- compare

def _probabilities(raw: np.ndarray, params: dict) -> np.ndarray:
    """What YamnetModel.scores returns for a raw output."""
    from scipy.special import expit
    if raw.dtype == np.uint8:
        raw = (raw.astype(np.float32) - params.get("class_scores_zero_point", 0.0)) * params["class_scores_scale"]
    return expit(raw.astype(np.float32))


def _pooled(p: np.ndarray, clip: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Per clip (real sounds only): each label's mean over its two best patches, as the engine pools."""
    rows = []
    for c, name in enumerate(names):
        if str(name).startswith("random/"):
            continue
        q = p[clip == c]
        if len(q) == 0:
            continue
        rows.append(q[0] if len(q) == 1 else np.partition(q, len(q) - 2, axis=0)[-2:].mean(axis=0))
    return np.array(rows)


def _differences(p: np.ndarray, ref: np.ndarray) -> dict:
    d = np.abs(p - ref)
    top = lambda a, k: np.argsort(-a, axis=1, kind="stable")[:, :k]
    t5p, t5r = top(p, 5), top(ref, 5)
    return {
        "max": float(d.max()), "mean": float(d.mean()),
        "x0.1": int(((p >= VOCABULARY) != (ref >= VOCABULARY)).sum()),
        "x0.05": int(((p >= KEEP) != (ref >= KEEP)).sum()),
        "top1": int((t5p[:, 0] != t5r[:, 0]).sum()),
        "top5set": int(sum(set(a) != set(b) for a, b in zip(t5p, t5r))),
        "top5order": int((t5p != t5r).any(axis=1).sum()),
        "bitexact": bool(np.array_equal(p, ref)),
    }


def compare(files: list[Path], folder: Path, npz: Path) -> None:
    params = json.loads((folder / "facts.json").read_text())["params"]
    data = np.load(npz)
    clip, names = data["clip"], data["names"]
    runs = []
    for f in files:
        if not f.is_file():
            print(f"(no {f}: left out)", file=sys.stderr)
            continue
        z = np.load(f)
        seen = json.loads(str(z["seen"]))
        for path in PATHS:
            if path in z.files:
                runs.append((seen["label"], path, _probabilities(z[path], params), seen))
    native = {path: p for label, path, p, _ in runs if label == "native"}
    ref = native["float"]
    n = len(ref)
    pooled_ref = _pooled(ref, clip, names)
    print(f"{n} patches x {CLASSES} labels = {n * CLASSES} pairs; {len(pooled_ref)} real clips pooled as "
          f"the engine pools a window. Reference: float path, native CPU.\n")
    head = (f"{'CPU':<26}{'path':<10}{'ms/patch':>9}{'max |dp|':>10}{'mean |dp|':>11}{'x0.1':>6}{'x0.05':>7}"
            f"{'top1':>6}{'top5set':>8}{'top5ord':>8}{'  clips: x0.1':>14}{'x0.05':>7}{'top1':>6}")
    for title, against in (("against the native float reference", None),
                           ("against the same path on the native CPU (cross-machine determinism)", "same")):
        if against and all(label == "native" for label, *_ in runs):
            continue
        print(f"== {title}\n{head}")
        for label, path, p, seen in runs:
            r = ref if against is None else native[path]
            if against and label == "native":
                continue
            a, c = _differences(p, r), _differences(_pooled(p, clip, names), _pooled(r, clip, names))
            ms = seen.get("ms_per_patch", {}).get(path, float("nan"))
            exact = " (bit-exact)" if a["bitexact"] else ""
            print(f"{label:<26}{path:<10}{ms:>9.1f}{a['max']:>10.2e}{a['mean']:>11.2e}{a['x0.1']:>6}"
                  f"{a['x0.05']:>7}{a['top1']:>6}{a['top5set']:>8}{a['top5order']:>8}"
                  f"{c['x0.1']:>14}{c['x0.05']:>7}{c['top1']:>6}{exact}")
        print()
    print("What each process saw of its CPU (cpuid as numpy's dispatcher reads it; arm64 HWCAP):")
    for label in dict.fromkeys(r[0] for r in runs):
        seen = next(s for lab, _, _, s in runs if lab == label)
        feats = [f for f in seen.get("numpy_cpu_features", []) if f.startswith(("AVX", "SSE", "FMA", "ASIMD", "NEON", "SVE"))]
        print(f"  {label:<26}{seen['machine']:<8} {' '.join(feats)} {seen.get('hwcap', '')}")


# ---------------------------------------------------------------- speed

def speed(folder: Path, npz: Path, repeats: int) -> None:
    """Best of `repeats` passes over 64 patches: wall time, and CPU time (steadier on a shared machine)."""
    x = np.load(npz)["patches"][:64]
    params = json.loads((folder / "facts.json").read_text())["params"]
    print(f"ms per patch, one thread, best of {repeats} passes over 64 patches, wall / CPU "
          f"({platform.machine()}, load average {os.getloadavg()[0]:.1f}):")
    for path in PATHS:
        session = _session(folder, path)
        name = session.get_inputs()[0].name
        row = []
        for batch in (1, 32):
            feeds = [_encode(session, params, x[i:i + batch]) for i in range(0, 64, batch)]
            session.run(None, {name: feeds[0]})
            wall = cpu = float("inf")
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                for f in feeds:
                    session.run(None, {name: f})
                wall = min(wall, (time.perf_counter() - t0) * 1000 / 64)
                cpu = min(cpu, (time.process_time() - c0) * 1000 / 64)
            row.append(f"batch {batch:>2}: {wall:6.2f} / {cpu:6.2f}")
        print(f"  {path:<10}" + "   ".join(row))


# (mask, value) of the arm64 integer dot product and matrix multiply encodings
_ARM64 = {
    "udot": [(0xBF20FC00, 0x2E809400), (0xBFC0F400, 0x2F80E000)],
    "sdot": [(0xBF20FC00, 0x0E809400), (0xBFC0F400, 0x0F80E000)],
    "ummla": [(0xFFE0FC00, 0x6E80A400)], "smmla": [(0xFFE0FC00, 0x4E80A400)],
    "sve ummla": [(0xFFE0FC00, 0x45C09800)], "sve smmla": [(0xFFE0FC00, 0x45009800)],
    "sve sdot/udot": [(0xFF20F800, 0x44800000)],
}
_X86 = re.compile(r"\b(vpdpbusds?|vpmaddubsw|pmaddubsw|vpmaddwd|pmaddwd)\b")


def kernels(logs: list[Path]) -> None:
    """Which integer multiply-accumulate instructions the emulated process translated."""
    for log in logs:
        counts: dict[str, int] = {}
        for line in log.read_text(errors="replace").splitlines():
            for name in _X86.findall(line):
                counts[name] = counts.get(name, 0) + 1
            m = re.match(r"^0x[0-9a-f]+:\s+([0-9a-f]{8})\s", line)
            if m:
                word = int(m.group(1), 16)
                for name, forms in _ARM64.items():
                    if any(word & mask == value for mask, value in forms):
                        counts[name] = counts.get(name, 0) + 1
        found = ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())) or "no dot product or pairwise multiply-add"
        print(f"  {log.name.removesuffix('.in_asm.log'):<26}{found}")


def main(argv: list[str]) -> int:
    if not argv:         # `make bench`: this CPU only, in a temporary folder
        with tempfile.TemporaryDirectory(prefix="bench-numerics-") as tmp:
            work = Path(tmp)
            make_patches(work / "patches.npz", per_clip=6, randoms=64)
            make_graphs(work / "graphs")
            score(work / "graphs", work / "patches.npz", work / "native.npz", list(PATHS), "native")
            compare([work / "native.npz"], work / "graphs", work / "patches.npz")
            speed(work / "graphs", work / "patches.npz", repeats=5)
        print("The emulated CPUs: benchmarks/bench_numerics.sh")
        return 0
    step, rest = argv[0], argv[1:]
    if step == "patches":
        make_patches(Path(rest[0]), per_clip=int(os.environ.get("PER_CLIP", "6")),
                     randoms=int(os.environ.get("RANDOMS", "64")))
    elif step == "graphs":
        make_graphs(Path(rest[0]))
    elif step == "score":
        paths = os.environ.get("PATHS", ",".join(PATHS)).split(",")
        score(Path(rest[0]), Path(rest[1]), Path(rest[2]), paths, os.environ.get("LABEL", "native"))
    elif step == "compare":
        compare([Path(p) for p in rest[2:]], Path(rest[0]), Path(rest[1]))
    elif step == "kernels":
        kernels([Path(p) for p in rest])
    elif step == "speed":
        speed(Path(rest[0]), Path(rest[1]), repeats=int(os.environ.get("REPEATS", "5")))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
