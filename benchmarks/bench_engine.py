"""The embedded AudioSet engine's speed and memory. Run by hand: `.venv/bin/python benchmarks/bench_engine.py`.

Prints:
  - model load time;
  - the engine alone on 48 kHz/24-bit stereo (decode excluded), in multiples of real time, wall
    and per CPU-second (the latter stays meaningful on a machine shared with other work);
  - the first scan with the default engine, every container written, through `sidecar scan`
    (start-up included), in multiples of real time (target: 100x or more), and its peak memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sidecar.audio.decode import decode  # noqa: E402
from sidecar.classify.audioset import AudiosetEngine  # noqa: E402

SIDECAR = str(Path(sys.executable).with_name("sidecar"))
RATE = 48000


def _library(folder: Path, files: int, seconds: float) -> float:
    """Generated 48 kHz/24-bit stereo: tones, noise, clicks, and a voice when espeak-ng is here."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(RATE * seconds)) / RATE
    voice = None
    try:
        wav = folder / "voice.tmp.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "Take five. Rolling. Speed. Mark it, and action. " * 2],
                       check=True, capture_output=True)
        v = decode(str(wav)).samples[:, 0]
        wav.unlink()
        v = np.interp(np.arange(len(v) * RATE // 22050) * 22050 / RATE, np.arange(len(v)), v)
        voice = np.resize(v, len(t))
    except (OSError, subprocess.CalledProcessError):
        pass
    for i in range(files):
        kind = i % 4
        if kind == 0:
            x = 0.3 * np.sin(2 * np.pi * (200 + 10 * i) * t)
        elif kind == 1:
            x = 0.2 * rng.standard_normal(len(t))
        elif kind == 2 or voice is None:
            x = np.zeros(len(t))
            x[:: RATE // 2] = 0.9
        else:
            x = voice
        stereo = np.stack([x, np.roll(x, 7)], axis=1).astype(np.float32)
        sf.write(folder / f"take {i:03d}.wav", stereo, RATE, subtype="PCM_24")
    return files * seconds


def bench_engine(tmp: Path, files: int = 24, seconds: float = 10.0) -> None:
    started = time.perf_counter()
    engine = AudiosetEngine()
    print(f"model load: {time.perf_counter() - started:.2f} s ({engine.model_name})")
    audio_seconds = _library(tmp / "engine", files, seconds)
    decoded = [decode(str(p)) for p in sorted((tmp / "engine").glob("*.wav"))]
    wall, cpu = time.perf_counter(), time.process_time()
    for audio in decoded:
        engine.classify(audio)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"engine alone, one thread: {files} files, {audio_seconds:.0f} s of 48 kHz/24-bit stereo in "
          f"{wall:.2f} s = {audio_seconds / wall:.0f}x real time ({audio_seconds / cpu:.0f}x per CPU-second)")


def bench_first_scan(tmp: Path, files: int = 60, seconds: float = 8.0) -> None:
    lib = tmp / "first"
    audio_seconds = _library(lib, files, seconds)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([SIDECAR, "scan", str(lib), "--json", "--db", str(tmp / "first.db")],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"first scan, {doc['engine']}, all containers written, 2 jobs: {files} files, "
          f"{audio_seconds:.0f} s of 48 kHz/24-bit stereo in {elapsed:.2f} s = {audio_seconds / elapsed:.0f}x "
          f"real time ({audio_seconds / cpu:.0f}x per CPU-second; peak memory {after.ru_maxrss / 1024:.0f} MB)")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bench_engine(Path(tmp))
        bench_first_scan(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
