"""YAMNet's own 1024-d embedding beside the sounds-like network (aisfx, 512-d) for `sidecar similar`.

    python benchmarks/bench_yamnet_embedding.py [--seeds 5] [--members 10] [--corpus DIR] [--numerics float]

The embedded YAMNet export outputs only its 521 scores. This makes a copy of the export that also
outputs the tensor its classifier (the last Gemm) reads: the globally average-pooled 1024-d layer,
one vector per 0.96 s patch, quantised to uint8 in the export (dequantised here with the scale and
zero point of the DequantizeLinear that feeds the Gemm; the float path's conversion turns it into
the float tensor itself). The copy goes through the product's own conversion (YamnetModel with
--model), inside a temporary model cache, so the real cache's files are never touched; the scores
of the copy are checked bit-identical to those of the unmodified export on real patches.

Files are heard as the AudioSet engine hears them (its 10 s windows, quiet passages raised, one
model call per window); a file's YAMNet vector is the mean of its patch vectors (unit length), or
mean and max side by side. The aisfx vector is the one a scan stores (Embedder.embed). Likeness is
scored as `sidecar similar` ranks (cosine, nearest first, the query left out) on:

- the generated families of tests/test_similar.py (FAMILIES, family_sound): MEMBERS per family
  for each of SEEDS seeds, each seed a library of its own, figures averaged over seeds;
- the listening corpus (benchmarks/listening/build_corpus.py; its manifest.tsv), grouped by the UCS
  Categories a person files each clip under (a neighbour is right when it shares one; a clip whose
  categories no other clip has asks no question and is left out);
- the same clips beside a processed copy of each (slower, trimmed, quieter, a little noise): the
  other take of the same sound is the one right answer, what likeness means without any category.

Figures: precision at 1 and at 5 (share of the nearest neighbours that are right), mean average
precision; and the cost per second of audio, one thread: the YAMNet calls with and without the
extra output (what the embedding adds to the classification it comes with), and aisfx as a scan
runs it (resample, log-mel, network).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

# every model file this process makes (unpacked export, converted graphs, the aisfx graph) goes
# into a throwaway cache: the user's model cache is neither read for the copy nor written
_CACHE = tempfile.TemporaryDirectory(prefix="bench-yamnet-embedding-")
os.environ["XDG_CACHE_HOME"] = _CACHE.name

from figures import figure  # noqa: E402
from test_similar import FAMILIES, family_sound  # noqa: E402  (the families `sidecar similar` is tested on)

from sidecar.audio.decode import Audio, decode  # noqa: E402
from sidecar.classify import yamnet_model  # noqa: E402
from sidecar.classify.audioset import AudiosetEngine  # noqa: E402
from sidecar.similarity.embedder import Embedder, unit  # noqa: E402
from sidecar.similarity.melspec import BLOCK_SECONDS  # noqa: E402

FAMILY_RATE = 48000
DEFAULT_CORPUS = os.path.expanduser("~/.cache/sfx-sidecar/listening")


# --- the export with its embedding as a second output -------------------------------------------

def export_with_embedding(folder: str) -> tuple[str, str, float | None, float]:
    """The installed export with the classifier's input as a second output, written to folder:
    (path, output name, scale, zero point); scale None when the tensor is float already."""
    import onnx
    from onnx import helper, numpy_helper
    source, _ = yamnet_model.default_model_files()
    proto = onnx.load(str(yamnet_model._unpack(source)))
    g = proto.graph
    producer = {o: n for n in g.node for o in n.output}
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    # walk back from the scores to the last Gemm/MatMul: the classifier
    node = producer[g.output[0].name]
    while node.op_type not in ("Gemm", "MatMul", "QGemm"):
        node = producer[node.input[0]]
    feed = producer.get(node.input[0])
    if feed is not None and feed.op_type == "DequantizeLinear":
        name, scale = feed.input[0], float(consts[feed.input[1]])
        zero = float(consts[feed.input[2]]) if len(feed.input) > 2 else 0.0
        elem = onnx.TensorProto.UINT8
    else:
        name, scale, zero, elem = node.input[0], None, 0.0, onnx.TensorProto.FLOAT
    g.output.append(helper.make_tensor_value_info(name, elem, [1, 1024]))
    path = os.path.join(folder, "yamnet-w8a8-embedding.onnx")
    onnx.save(proto, path)          # weights inline: the copy stands alone
    return path, name, scale, zero


class Timed:
    """A session proxy that times the calls and keeps each call's raw scores."""

    def __init__(self, session):
        self.session, self.seconds, self.raw = session, 0.0, []

    def run(self, names, feed):
        started = time.perf_counter()
        out = self.session.run(names, feed)
        self.seconds += time.perf_counter() - started
        self.raw.append(out[0])
        return out

    def take_raw(self) -> np.ndarray:
        got = np.concatenate(self.raw) if self.raw else np.zeros((0, 521), np.float32)
        self.raw = []
        return got


class Heard(Timed):
    """Timed, over the copy that also outputs the patch vectors: those are kept too (dequantised)."""

    def __init__(self, session, scale, zero):
        super().__init__(session)
        self.scale, self.zero = scale, zero
        self.vectors: list[np.ndarray] = []

    def run(self, names, feed):
        out = super().run(names, feed)
        v = out[1].astype(np.float32)
        self.vectors.append((v - self.zero) * self.scale if self.scale is not None else v)
        return out

    def take(self) -> np.ndarray:
        """The patch vectors since the last take (none for digital silence, never heard)."""
        got = np.concatenate(self.vectors) if self.vectors else np.zeros((0, 1024), np.float32)
        self.vectors = []
        return got


def identical(plain: AudiosetEngine, extended: AudiosetEngine) -> int:
    """The raw scores of the last calls of both, bit for bit; returns the patches compared."""
    a, b = plain.model._session.take_raw(), extended.model._session.take_raw()
    if a.dtype != b.dtype or not np.array_equal(a, b):
        raise SystemExit(f"the copy's scores differ from the export's ({a.dtype}, {b.dtype}, "
                         f"max {np.abs(a.astype(np.float64) - b.astype(np.float64)).max():.3g})")
    return len(a)


# --- the files and their vectors -----------------------------------------------------------------

def family_library(seed: int, members: int) -> tuple[list[Audio], list[set[str]]]:
    rng = np.random.default_rng(seed)
    audios, groups = [], []
    for family in FAMILIES:
        for _ in range(members):
            x = family_sound(family, rng)
            x = np.round(x * 32767) / 32767         # as the test writes them: 16-bit WAV
            audios.append(Audio(x.astype(np.float32)[:, None], FAMILY_RATE, 16))
            groups.append({family})
    return audios, groups


def corpus_library(folder: str) -> tuple[list[Audio], list[set[str]], list[str]]:
    manifest = os.path.join(folder, "manifest.tsv")
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    audios = [decode(os.path.join(folder, r["file"])) for r in rows]
    groups = [{c for c in r["categories"].split(";") if c} for r in rows]
    return audios, groups, [Path(r["file"]).stem for r in rows]


def processed(audio: Audio, rng: np.random.Generator) -> Audio:
    """Another take of the same sound: played 6% slower (pitch and tempo, as a varispeed), its
    first 5% cut, 6 dB quieter, white noise added 30 dB under its RMS."""
    from scipy.signal import resample_poly
    x = resample_poly(audio.samples, 50, 47, axis=0)[int(0.05 * audio.frames):]
    rms = float(np.sqrt(np.mean(x ** 2))) or 1e-6
    x = 0.5 * (x + rng.standard_normal(x.shape) * rms * 10 ** (-30 / 20))
    return Audio(np.clip(x, -1, 1).astype(np.float32), audio.samplerate, audio.bit_depth)


class Vectors:
    """Every way of turning a file into a vector."""

    def __init__(self, engine: AudiosetEngine, embedder: Embedder):
        self.engine, self.embedder = engine, embedder

    def of(self, audios: list[Audio], aisfx: bool = True) -> dict[str, np.ndarray]:
        kinds: dict[str, list[np.ndarray]] = {k: [] for k in METHODS}
        for audio in audios:
            self.engine.classify(audio)           # the patch vectors come with the labels
            per_patch = self.engine.model._session.take()
            self.engine.model._session.raw = []
            if not len(per_patch):
                per_patch = np.zeros((1, 1024), np.float32)
            mean = unit(per_patch.mean(axis=0))
            kinds["yamnet-mean"].append(mean)
            kinds["yamnet-mean+max"].append(unit(np.concatenate([mean, unit(per_patch.max(axis=0))])))
            if not aisfx:
                continue
            e = self.embedder.embed(audio.samples, audio.samplerate)
            kinds["aisfx"].append(e.vector)
            kinds["aisfx-mean+max"].append(unit(np.concatenate([e.vector, unit(e.blocks.max(axis=0))])))
        return {k: np.stack(v) for k, v in kinds.items() if v}


METHODS = ("aisfx", "aisfx-mean+max", "yamnet-mean", "yamnet-mean+max")
LABELS = {"aisfx": "aisfx, 512-d, mean of blocks (what a scan stores)",
          "aisfx-mean+max": "aisfx, mean and max of blocks (1024-d)",
          "yamnet-mean": "YAMNet, 1024-d, mean of patches",
          "yamnet-mean+max": "YAMNet, mean and max of patches (2048-d)"}


# --- likeness ------------------------------------------------------------------------------------

def likeness(vectors: np.ndarray, groups: list[set[str]]) -> tuple:
    """(P@1, P@5, mAP, questions, each question's hit at 1, each question's AP) of cosine nearest
    neighbours, each file asking once."""
    sim = vectors @ vectors.T
    p1, p5, ap = [], [], []
    for q in range(len(vectors)):
        others = [i for i in range(len(vectors)) if i != q]
        right = np.array([bool(groups[i] & groups[q]) for i in others])
        if not right.any():
            continue                    # nothing in the library is like it: no question to ask
        order = np.argsort(-sim[q, others], kind="stable")
        hits = right[order]
        p1.append(float(hits[0]))
        p5.append(float(hits[:5].mean()))
        ranks = np.flatnonzero(hits) + 1
        ap.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
    return float(np.mean(p1)), float(np.mean(p5)), float(np.mean(ap)), len(p1), np.array(p1), np.array(ap)


def paired(a: tuple, b: tuple, rounds: int = 10000) -> str:
    """How b differs from a over the same questions: who is right at 1 where the other is not,
    and a bootstrap 95% interval of the differences in P@1 and mAP (questions resampled)."""
    hit_a, hit_b, ap_a, ap_b = a[4], b[4], a[5], b[5]
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(hit_a), (rounds, len(hit_a)))
    d1 = np.percentile((hit_b - hit_a)[picks].mean(axis=1), [2.5, 97.5])
    dap = np.percentile((ap_b - ap_a)[picks].mean(axis=1), [2.5, 97.5])
    return (f"right at 1 where the other is not: {int(((hit_b == 1) & (hit_a == 0)).sum())} vs "
            f"{int(((hit_a == 1) & (hit_b == 0)).sum())}; 95% interval of the difference: "
            f"P@1 {d1[0]:+.3f} to {d1[1]:+.3f}, mAP {dap[0]:+.3f} to {dap[1]:+.3f}")


def table(title: str, rows: dict[str, tuple]) -> None:
    print(f"\n{title}")
    print(f"| {'file vector':<52} | P@1   | P@5   | mAP   |")
    print(f"|{'-' * 54}|-------|-------|-------|")
    for k in METHODS:
        p1, p5, ap = rows[k][:3]
        print(f"| {LABELS[k]:<52} | {p1:.3f} | {p5:.3f} | {ap:.3f} |")


def cost(plain: AudiosetEngine, extended: AudiosetEngine, embedder: Embedder, audios: list[Audio]) -> dict:
    """Milliseconds per second of audio, one thread, the three hearings of each file alternated."""
    seconds = sum(a.frames / a.samplerate for a in audios)
    plain.model._session.seconds = extended.model._session.seconds = 0.0
    aisfx = pool = 0.0
    blocks = compared = 0
    plain.model._session.raw, extended.model._session.raw = [], []
    for audio in audios:
        plain.classify(audio)
        extended.classify(audio)
        compared += identical(plain, extended)
        started = time.perf_counter()
        per_patch = extended.model._session.take()
        if len(per_patch):
            unit(np.concatenate([unit(per_patch.mean(axis=0)), unit(per_patch.max(axis=0))]))
        pool += time.perf_counter() - started
        started = time.perf_counter()
        blocks += len(embedder.embed(audio.samples, audio.samplerate).blocks)
        aisfx += time.perf_counter() - started
    ms = 1000 / seconds
    return {"seconds": seconds, "plain": plain.model._session.seconds * ms,
            "extended": extended.model._session.seconds * ms, "pool": pool * ms,
            "aisfx": aisfx * ms, "block": 1000 * aisfx / blocks, "blocks": blocks, "compared": compared}


def misses(vectors: np.ndarray, groups: list[set[str]], names: list[str]) -> list[str]:
    """query->nearest for every clip whose nearest neighbour files under none of its categories."""
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, -2.0)
    out = []
    for q, g in enumerate(groups):
        askable = any(g & groups[i] for i in range(len(groups)) if i != q)
        nearest = int(np.argmax(sim[q]))
        if askable and not g & groups[nearest]:
            out.append(f"{names[q]}->{names[nearest]}")
    return out


def hearing(engine: AudiosetEngine, scale: float, zero: float) -> AudiosetEngine:
    """The engine with its session kept by Heard (the copy's two outputs checked)."""
    out = engine.model._session.get_outputs()
    if len(out) != 2 or out[1].shape[-1] != 1024:
        raise SystemExit(f"the copy's outputs are {[(o.name, o.shape, o.type) for o in out]}")
    # the float path's conversion turns the quantised output into the float tensor it quantised
    dq = scale if out[1].type == "tensor(uint8)" else None
    engine.model._session = Heard(engine.model._session, dq, zero)
    return engine


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--members", type=int, default=10, help="members per family, each seed")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="the listening corpus (manifest.tsv)")
    ap.add_argument("--numerics", choices=yamnet_model.NUMERICS, default=yamnet_model.DEFAULT_NUMERICS)
    args = ap.parse_args()

    other = "int8" if args.numerics != "int8" else "float"
    with tempfile.TemporaryDirectory(prefix="yamnet-embedding-") as tmp:
        path, name, scale, zero = export_with_embedding(tmp)
        plain = AudiosetEngine(numerics=args.numerics)
        extended = hearing(AudiosetEngine(path, numerics=args.numerics), scale, zero)
        elsewhere = hearing(AudiosetEngine(path, numerics=other), scale, zero)
    dq = extended.model._session.scale
    plain.model._session = Timed(plain.model._session)
    kind = f"uint8, dequantised with scale {scale:.6g}, zero point {zero:g}" if dq is not None else "float"
    print(f"numerics {args.numerics}: embedding output {name!r} ({kind})")

    embedder = Embedder.load()
    vectors = Vectors(extended, embedder)
    per_seed = []
    for seed in range(args.seeds):
        audios, groups = family_library(seed, args.members)
        v = vectors.of(audios)
        per_seed.append({k: likeness(v[k], groups) for k in METHODS})
    families = {k: tuple(float(np.mean([s[k][i] for s in per_seed])) for i in range(3)) for k in METHODS}
    table(f"Generated families ({len(FAMILIES)} x {args.members} members, {args.seeds} seeds, "
          f"mean over seeds)", families)
    timed = family_library(0, args.members)[0]

    corpus = None
    if os.path.isfile(os.path.join(args.corpus, "manifest.tsv")):
        audios, groups, names = corpus_library(args.corpus)
        v = vectors.of(audios)
        corpus = {k: likeness(v[k], groups) for k in METHODS}
        table(f"Listening corpus ({len(audios)} clips; {corpus['aisfx'][3]} share a UCS Category "
              f"with another clip and ask)", corpus)
        print(f"  YAMNet mean beside aisfx, {paired(corpus['aisfx'], corpus['yamnet-mean'])}")
        for k in ("aisfx", "yamnet-mean"):
            wrong = misses(v[k], groups, names)
            print(f"  {k}: nearest neighbour under none of its categories for {len(wrong)}: {', '.join(wrong)}")
        copies = [processed(a, np.random.default_rng(i)) for i, a in enumerate(audios)]
        twins = [{n} for n in names] * 2
        w = vectors.of(copies)
        takes = {k: likeness(np.concatenate([v[k], w[k]]), twins) for k in METHODS}
        table(f"The same clips with a processed copy of each ({2 * len(audios)} files; the one right "
              f"answer is the other take, so P@5 is at most 0.2)", takes)
        print(f"  YAMNet mean beside aisfx, {paired(takes['aisfx'], takes['yamnet-mean'])}")
        there = Vectors(elsewhere, embedder).of(audios, aisfx=False)["yamnet-mean"]
        cosine = (there * v["yamnet-mean"]).sum(axis=1)
        print(f"  YAMNet file vectors of the {args.numerics} and {other} paths, same clip: cosine median "
              f"{np.median(cosine):.4f}, lowest {cosine.min():.4f} ({names[int(np.argmin(cosine))]})")
        timed = audios
    else:
        print(f"\nno listening corpus at {args.corpus} (benchmarks/listening/build_corpus.py builds it): left out")

    c = cost(plain, extended, embedder, timed)
    print(f"\nThe copy's raw scores are bit-identical to the unmodified export's on all {c['compared']} "
          f"patches of the timed files")
    print(f"\nCost per second of audio, one thread ({c['seconds']:.0f} s of "
          f"{'the listening corpus' if corpus else 'generated families'}, alternated; load {os.getloadavg()[0]:.1f}):")
    print(f"  YAMNet calls, unmodified export:        {c['plain']:.2f} ms")
    print(f"  YAMNet calls with the embedding output: {c['extended']:.2f} ms; pooling the file vector "
          f"{c['pool']:.3f} ms")
    print(f"  aisfx as a scan runs it (resample, log-mel, network): {c['aisfx']:.2f} ms "
          f"({c['block']:.1f} ms a block of {BLOCK_SECONDS:.2f} s, {c['blocks']} blocks)")
    figure("similar, generated families: P@1 aisfx / YAMNet embedding",
           f"{families['aisfx'][0]:.3f} / {families['yamnet-mean'][0]:.3f}", "aisfx beside it")
    if corpus:
        figure("similar, listening corpus by UCS Category: P@1 aisfx / YAMNet embedding",
               f"{corpus['aisfx'][0]:.3f} / {corpus['yamnet-mean'][0]:.3f}", "aisfx beside it")
    figure("cost per second of audio: aisfx / YAMNet calls with the embedding, without",
           f"{c['aisfx']:.2f} ms / {c['extended']:.2f} ms, {c['plain']:.2f} ms", "aisfx beside it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
