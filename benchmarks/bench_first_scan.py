"""The first scan, stage by stage, beside the decode it cannot beat. Run by hand:

    .venv/bin/python benchmarks/bench_first_scan.py [--files 24] [--seconds 15] [--rounds 2]

A library of 48 kHz/24-bit stereo files made with sox (tones, sweeps, noises, plucks, bursts).

1. The stage table: one first scan in this process (2 jobs, the default engine, sounds-like
   embeddings, every container written, journaled), each stage's functions wrapped by a timer
   that adds up the CPU time of the thread that ran them (both engines' ONNX sessions run one
   thread per call, in that thread). Writes are shown without their fsyncs, fsync apart.
2. The wall: `sidecar scan` of a fresh copy of the library (start-up included) beside ffmpeg
   decoding the same files to 16 kHz mono one after another, alternately, `--rounds` times in
   the same run; the best of each and their ratio (target: the scan <= 1.5x the decode).

Figures are upper bounds on a shared machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

# the stage table runs the scan in this process: BLAS single-threaded, as the `sidecar` command
# sets it before numpy loads (sidecar/cli/__init__.py)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402

SIDECAR = str(Path(sys.executable).with_name("sidecar"))
RATE = 48000

#: sox synth recipes, one per file in turn
RECIPES = [
    ["synth", "{s}", "sine", "220"],
    ["synth", "{s}", "pinknoise", "vol", "0.4"],
    ["synth", "{s}", "sine", "100-4000"],
    ["synth", "{s}", "brownnoise", "vol", "0.5"],
    ["synth", "{s}", "square", "110", "tremolo", "6", "vol", "0.3"],
    ["synth", "{s}", "pluck", "C3", "repeat", "-"],
    ["synth", "{s}", "whitenoise", "band", "3000", "500", "vol", "0.5"],
    ["synth", "{s}", "sawtooth", "55", "lowpass", "800", "vol", "0.4"],
]


def make_library(folder: Path, files: int, seconds: float) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        recipe = [a.format(s=seconds) for a in RECIPES[i % len(RECIPES)]]
        if "repeat" in recipe:
            # a pluck every 1.5 s: the sound decays, the file is bursts and room
            recipe = ["synth", "1.5", "pluck", ["C3", "E3", "G3"][i % 3], "repeat", str(int(seconds / 1.5) - 1)]
        out = folder / f"take {i:03d}.wav"
        subprocess.run(["sox", "-n", "-r", str(RATE), "-b", "24", "-c", "2", str(out), *recipe,
                        "trim", "0", str(seconds)], check=True, capture_output=True)
    return files * seconds


# --- 1. the stage table ---------------------------------------------------------------

class Stages:
    """Thread CPU seconds per stage, added up over every call in every worker."""

    def __init__(self):
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._inside = threading.local()

    def wrap(self, owner, attr: str, stage: str) -> None:
        real = getattr(owner, attr)
        stages = self

        def timed(*args, **kwargs):
            outer = getattr(stages._inside, "stage", None)
            stages._inside.stage = stage
            start, begun = time.thread_time(), time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent, waited = time.thread_time() - start, time.perf_counter() - begun
                stages.cpu[stage] += spent
                stages.wall[stage] += waited
                stages.calls[stage] += 1
                if outer is not None:
                    stages.cpu[outer] -= spent      # a stage inside another is counted once, as itself
                    stages.wall[outer] -= waited
                stages._inside.stage = outer
        setattr(owner, attr, timed)


def stage_table(lib: Path, db: Path, audio_seconds: float) -> None:
    from sidecar.audio import descriptors
    from sidecar.classify import audioset
    from sidecar.classify.yamnet_model import YamnetModel
    from sidecar.cli.scan import scan
    from sidecar.formats import base as format_base, wav as wav_format
    from sidecar.pipeline import runner
    from sidecar.pipeline import stages as pipeline_stages
    from sidecar.similarity import embedder, melspec

    s = Stages()
    s.wrap(wav_format.Riff, "decode", "decode (libsndfile, 48 kHz float)")
    s.wrap(format_base.Format, "fingerprint", "fingerprint (PCM bytes, blake2b)")
    s.wrap(descriptors, "_loudness", "loudness (BS.1770)")
    s.wrap(descriptors, "_true_peak", "true peak (4x oversampled)")
    s.wrap(audioset, "measure", "other descriptors (peak, RMS, clipping, DC)")
    s.wrap(audioset, "prepare", "AudioSet: mono + resample to 16 kHz")
    s.wrap(audioset, "patches", "AudioSet: log-mel patches")
    s.wrap(YamnetModel, "scores", "AudioSet: YAMNet model")
    s.wrap(melspec, "prepare", "sounds-like: mono + resample to 44.1 kHz")
    s.wrap(melspec, "log_mel", "sounds-like: log-mel")
    s.wrap(embedder.Embedder, "embed_blocks", "sounds-like: aisfx network")
    s.wrap(pipeline_stages, "write_embedded", "writes: embedded (journal, rewrite, verify)")
    s.wrap(pipeline_stages, "_write_sidecar", "writes: sidecar XML (journaled)")
    s.wrap(os, "fsync", "fsync (files and folders)")
    s.wrap(YamnetModel, "__init__", "model loads: YAMNet session")
    s.wrap(runner, "_update_meaning", "search by meaning: text vectors of new files")
    s.wrap(runner, "record_task", "index: each file's row (one writer)")
    s.wrap(pipeline_stages, "read_existing", "probe: metadata already in the file")
    s.wrap(embedder.Embedder, "load", "model loads: aisfx network")
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            scan.main([str(lib), "--db", str(db), "--jobs", "2", "--json"], standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    staged = sum(s.cpu.values())
    print(f"\nStages of one first scan in this process ({audio_seconds:.0f} s of audio, 2 jobs): "
          f"{wall:.2f} s wall, {cpu:.2f} s CPU; load {os.getloadavg()[0]:.1f}")
    print("(CPU: the CPU time of the threads in each stage; wall: their time in it, both workers "
          "added up, so waits such as fsync show)")
    print(f"{'stage':48s} {'CPU s':>7s} {'share':>6s} {'wall s':>7s} {'calls':>6s}")
    for name, seconds in sorted(s.cpu.items(), key=lambda kv: -kv[1]):
        print(f"{name:48s} {seconds:7.2f} {seconds / cpu:6.1%} {s.wall[name]:7.2f} {s.calls[name]:6d}")
    print(f"{'the rest (walk, index, vocabulary, threads)':48s} {cpu - staged:7.2f} {(cpu - staged) / cpu:6.1%}")


# --- 2. the wall beside ffmpeg -----------------------------------------------------

def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def ffmpeg_decode(files: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of ffmpeg decoding the files to 16 kHz mono, one after another."""
    start, cpu = time.perf_counter(), children_cpu()
    for f in files:
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(f), "-ac", "1", "-ar", "16000",
                        "-f", "f32le", "-y", "/dev/null"], check=True)
    return time.perf_counter() - start, children_cpu() - cpu


def sidecar_scan(lib: Path, db: Path) -> tuple[float, float, dict]:
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run([SIDECAR, "scan", str(lib), "--json", "--jobs", "2", "--db", str(db)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"sidecar scan failed: {proc.stderr[-2000:]}")
    return seconds, children_cpu() - cpu, json.loads(proc.stdout)


def wall_beside_ffmpeg(tmp: Path, source: Path, audio_seconds: float, rounds: int) -> None:
    files = sorted(source.glob("*.wav"))
    scans, decodes, tagged, sounds, scan_cpu, decode_cpu = [], [], [], [], [], []
    for r in range(rounds):
        lib = tmp / f"round{r}"
        shutil.copytree(source, lib)
        os.sync()
        wall, cpu = ffmpeg_decode(files)
        decodes.append(wall)
        decode_cpu.append(cpu)
        seconds, cpu, doc = sidecar_scan(lib, tmp / f"round{r}.db")
        scan_cpu.append(cpu)
        assert doc["classified"] == len(files) and not doc["failed"], doc
        scans.append(seconds)
        tagged.append(doc["seconds"])
        sounds.append(doc["sounds_like"]["seconds"])
        shutil.rmtree(lib)
    scan, decode = min(scans), min(decodes)
    print(f"\nFirst scan beside the decode, best of {rounds} alternate rounds, load "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs:")
    print(f"  sidecar scan (2 jobs, every container written, start-up included): {scan:6.2f} s "
          f"= {audio_seconds / scan:.0f}x real time")
    best = scans.index(scan)
    print(f"    of which every file tagged and written (the first pass, in process): {tagged[best]:6.2f} s "
          f"= {tagged[best] / decode:.2f}x the decode; the sounds-like pass after it: {sounds[best]:.2f} s")
    print(f"  ffmpeg to 16 kHz mono, one file after another:                     {decode:6.2f} s "
          f"= {audio_seconds / decode:.0f}x real time")
    print(f"  CPU time (load-independent, best rounds): the scan {min(scan_cpu):.2f} s on 2 workers, "
          f"ffmpeg {min(decode_cpu):.2f} s on one")
    print(f"  the scan takes {scan / decode:.2f}x the decode (target <= 1.5x); all rounds: scan "
          f"{', '.join(f'{x:.2f}' for x in scans)} s, decode {', '.join(f'{x:.2f}' for x in decodes)} s")
    figure(f"first scan of {len(files)} files ({audio_seconds:.0f} s of 48 kHz/24-bit stereo), 2 jobs, whole command",
           f"{scan:.2f} s ({scan / decode:.2f}x)", f"1.5x the ffmpeg decode ({decode:.2f} s)", scan <= 1.5 * decode)
    figure("of it, every file tagged and written (the sounds-like pass after)", f"{tagged[best]:.2f} s "
           f"({tagged[best] / decode:.2f}x)", f"1.5x the ffmpeg decode ({decode:.2f} s)", tagged[best] <= 1.5 * decode)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("stages", "wall"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-first-scan-") as name:
        tmp = Path(name)
        source = tmp / "made"
        audio_seconds = make_library(source, args.files, args.seconds)
        print(f"library: {args.files} files of {args.seconds:g} s, 48 kHz/24-bit stereo, made with sox")
        if args.only != "wall":
            lib = tmp / "staged"
            shutil.copytree(source, lib)
            stage_table(lib, tmp / "staged.db", audio_seconds)
        if args.only != "stages":
            wall_beside_ffmpeg(tmp, source, audio_seconds, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
