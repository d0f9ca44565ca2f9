#!/usr/bin/env python3
"""Two sounds at once: choose the second sound's floor and ratio (sidecar.vocabulary.sounds.Rules)
on mixtures of the listening corpus's clips, cross-validated.

    .venv/bin/python benchmarks/listening/listen.py --json > heard.json
    .venv/bin/python benchmarks/listening/mixtures.py heard.json [--json]

The corpus's clips are single sounds, so they can only show a second sound wrongly reported.
Here each clip the engine hears well on its own (an expected label among its three best and its
Category right) is mixed with another such clip of another Category, the other at the same loudness
(RMS) and 6 dB under it, and the mixture is heard by the embedded engine. A second sound reported
on a mixture is right when it names the other clip (its lead label's words among the other clip's
accepted keywords, or its Category the other clip's) and wrong otherwise; any second sound on a
single clip is wrong. (When the main sound names one clip, the second must name the other;
when it names neither, the second may name either.) The floor and the ratio are chosen on a grid to make the most of
(right - 2 x wrong): a wrong sound in a Description costs more than a missing one. The mixtures
are split in two halves by their first clip (A: the 1st, 3rd, 5th... of those kept; B: the others),
with the single clips split as tune.py splits them; tuned on one half, reported on the other, then
swapped. The shipped values are the mean of the two halves' choices.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import listen  # noqa: E402
import tune  # noqa: E402

from sidecar.metadata.record import Label  # noqa: E402
from sidecar.vocabulary.sounds import DEFAULT_RULES, Rules  # noqa: E402
from sidecar.vocabulary.vocabulary import default_vocabulary  # noqa: E402

SECOND_FLOOR = [round(0.05 * i, 2) for i in range(2, 21)] + [1.01]   # 1.01: never a second sound
SECOND_RATIO = [round(0.1 * i, 1) for i in range(1, 11)]
GAINS_DB = (0.0, -6.0)
SECONDS = 5.0                       # each mixture: the first 5 s of both clips


def _mono(audio, rate: int) -> np.ndarray:
    x = audio.samples.mean(axis=1)
    if audio.samplerate != rate:    # linear resampling is enough for a label's presence
        t = np.arange(int(len(x) * rate / audio.samplerate)) / rate
        x = np.interp(t, np.arange(len(x)) / audio.samplerate, x)
    return x.astype(np.float32)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """x repeated or cut to n samples (a short clip repeats, as a sound that goes on)."""
    if len(x) == 0:
        return np.zeros(n, np.float32)
    return np.tile(x, -(-n // len(x)))[:n]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1e-9


def mix(a, b, gain_db: float):
    from sidecar.audio.decode import Audio

    rate = 16000
    xa, xb = _mono(a, rate), _mono(b, rate)
    n = min(int(SECONDS * rate), max(len(xa), 1))
    xa, xb = _fit(xa, n), _fit(xb, n)
    xb = xb * (_rms(xa) / _rms(xb)) * 10 ** (gain_db / 20)
    y = xa + xb
    peak = float(np.max(np.abs(y))) or 1.0
    if peak > 0.99:
        y = y * (0.99 / peak)
    return Audio(samples=y.reshape(-1, 1).astype(np.float32), samplerate=rate)


def pairs(kept: list[dict]) -> list[tuple[dict, dict]]:
    """Each kept clip with the next kept clip of another Category (a fixed, content-blind order)."""
    out = []
    for i, a in enumerate(kept):
        for step in range(1, len(kept)):
            b = kept[(i + step) % len(kept)]
            if not set(a["categories"]) & set(b["categories"]):
                out.append((a, b))
                break
    return out


def hear_mixtures(results: list[dict], rows: dict) -> list[dict]:
    from sidecar.classify.audioset import AudiosetEngine

    engine = AudiosetEngine()
    kept = [dict(rows[r["file"]], result=r) for r in results
            if r.get("top3") and r.get("category_right")]
    out = []
    for a, b in pairs(kept):
        _, audio_a = listen.decode_clip(a["path"])
        _, audio_b = listen.decode_clip(b["path"])
        for gain in GAINS_DB:
            c = engine.classify(mix(audio_a, audio_b, gain))
            out.append({"first": a["file"], "other": b["file"], "gain_db": gain,
                        "labels": [{"label": lb.label, "probability": lb.probability, "mid": lb.mid}
                                   for lb in c.labels]})
    return out


def _names(v, sound, row: dict) -> bool:
    """Whether a sound names a clip: its lead label's words among the clip's accepted keywords,
    or its CatID's Category among the clip's."""
    lead = v.entry(sound.lead.label, sound.lead.mid)
    said = {w.lower() for w in (lead.terms if lead else [sound.lead.label])}
    category = v.cat_info(v.catid_of(lead) or "").get("Category") if lead else None
    return bool(said & row["accepted"]) or category in row["categories"]


def scores(mixtures: list[dict], singles, rows: dict, rules: Rules) -> dict:
    v = default_vocabulary()
    right = wrong = missed = single_wrong = 0
    for m in mixtures:
        labels = sorted((Label(x["label"], x["probability"], x["mid"]) for x in m["labels"]),
                        key=lambda lb: -lb.probability)
        sounds = v.describe(labels, rules=rules).sounds
        if sounds.second is None:
            missed += 1
            continue
        # right: it names one of the two clips, one the main sound does not name already
        clips = [rows[m["first"]], rows[m["other"]]]
        left = [c for c in clips if not _names(v, sounds.main, c)] if len(clips) else clips
        hit = any(_names(v, sounds.second, c) for c in (left if len(left) < 2 else clips))
        right += hit
        wrong += not hit
    for r, labels in singles:
        single_wrong += v.describe(labels, rules=rules).sounds.second is not None
    return {"mixtures": len(mixtures), "second_right": right, "second_wrong": wrong, "second_missed": missed,
            "singles": len(singles), "singles_with_a_second": single_wrong,
            "score": right - 2 * (wrong + single_wrong)}


def choose(mixtures, singles, rows) -> Rules:
    table = {(f, r): scores(mixtures, singles, rows, Rules(**{**DEFAULT_RULES.__dict__, "second_floor": f,
                                                             "second_ratio": r}))["score"]
             for f in SECOND_FLOOR for r in SECOND_RATIO}
    floor = tune._middle_of_best(SECOND_FLOOR, lambda f: max(table[(f, r)] for r in SECOND_RATIO))
    ratio = tune._middle_of_best(SECOND_RATIO, lambda r: table[(floor, r)])
    return Rules(**{**DEFAULT_RULES.__dict__, "second_floor": floor, "second_ratio": ratio})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("heard", help="listen.py --json output")
    ap.add_argument("--manifest", default=os.path.join(listen.HERE, "manifest.tsv"))
    ap.add_argument("--mixtures", help="keep the mixtures' labels in this JSON file (heard once, then read)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with open(args.heard) as f:
        results = json.load(f)["results"]
    rows = {r["file"]: r for r in listen.read_manifest(args.manifest)}
    if args.mixtures and os.path.exists(args.mixtures):
        with open(args.mixtures) as f:
            mixtures = json.load(f)
    else:
        mixtures = hear_mixtures(results, rows)
        if args.mixtures:
            with open(args.mixtures, "w") as f:
                json.dump(mixtures, f)
    singles = tune.heard(results)
    firsts = list(dict.fromkeys(m["first"] for m in mixtures))
    half_of = {name: "AB"[i % 2] for i, name in enumerate(firsts)}
    halves = {h: ([m for m in mixtures if half_of[m["first"]] == h], singles[(h == "B")::2]) for h in "AB"}
    report, chosen = {}, []
    for tuned_on, held_out in (("A", "B"), ("B", "A")):
        rules = choose(*halves[tuned_on], rows)
        chosen.append(rules)
        report[f"tuned on {tuned_on}"] = {
            "second_floor": rules.second_floor, "second_ratio": rules.second_ratio,
            f"on {tuned_on} (tuned)": scores(*halves[tuned_on], rows, rules),
            f"on {held_out} (held out)": scores(*halves[held_out], rows, rules)}
    floor = round((chosen[0].second_floor + chosen[1].second_floor) / 2, 2)
    ratio = round((chosen[0].second_ratio + chosen[1].second_ratio) / 2, 2)
    mean = Rules(**{**DEFAULT_RULES.__dict__, "second_floor": floor, "second_ratio": ratio})
    report["the halves' mean, on all"] = {"second_floor": floor, "second_ratio": ratio,
                                          "scores": scores(mixtures, singles, rows, mean)}
    report["defaults on all"] = {"second_floor": DEFAULT_RULES.second_floor,
                                 "second_ratio": DEFAULT_RULES.second_ratio,
                                 "scores": scores(mixtures, singles, rows, DEFAULT_RULES)}
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for name, part in report.items():
            print(name)
            for k, val in part.items():
                print(f"  {k}: {val}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
