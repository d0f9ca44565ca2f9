#!/usr/bin/env python3
"""Choose the vocabulary's thresholds (sidecar.vocabulary.sounds.Rules) on the listening corpus,
cross-validated: tuned on one half of the clips, reported on the other half, then swapped.

    .venv/bin/python benchmarks/listening/listen.py --json > heard.json
    .venv/bin/python benchmarks/listening/tune.py heard.json [--json] [--only-ratios]

The clips are described again from the labels heard.json holds (nothing is heard again). Three
choices, each on a grid, in this order:
- agreement (how much a group's other labels add to its strongest) and refine_ratio (how far the
  CatID and the Description follow a weaker, narrower label), together: the pair that makes the
  most of Category right + CatID right + Description right;
- cross_ratio (how sure a narrower label must be to move the sound into another UCS Category) and
  bed_ratio (how near a named sound must come to a main sound that names none), together, on the
  same measure;
- keyword_floor: the lowest floor whose keyword precision reaches PRECISION_TARGET (a wrong
  keyword costs trust in every search, a missing one costs one search), which keeps the most
  keywords at that precision; when no floor reaches it, the most precise one; then
  path_keyword_floor (the path's own labels, when their sound scores at least keyword_floor): the
  lowest, up to keyword_floor, that still reaches PRECISION_TARGET.
The halves: the manifest's clips in order, alternately A and B. Ties go to the middle of the
grid's best run, so a plateau does not pick its edge. The second sound's floor and ratio are
chosen on mixtures of these clips (mixtures.py), since the clips hold one sound each. The rules shipped are the mean of the two
halves' choices; their figures on all the clips are printed too (tuned on them, so not held out).
--only-ratios chooses cross_ratio and bed_ratio alone, the other thresholds held as shipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import listen  # noqa: E402

from sidecar.metadata.record import Label  # noqa: E402
from sidecar.vocabulary.sounds import DEFAULT_RULES, Rules  # noqa: E402
from sidecar.vocabulary.vocabulary import default_vocabulary  # noqa: E402

REFINE = [round(0.05 * i, 2) for i in range(1, 20)]
AGREEMENT = [round(0.1 * i, 1) for i in range(0, 11)]
KEYWORD_FLOOR = [round(0.05 * i, 2) for i in range(2, 19)]
RATIO = [round(0.05 * i, 2) for i in range(1, 21)]
TUNED = ("agreement", "refine_ratio", "cross_ratio", "bed_ratio", "keyword_floor", "path_keyword_floor")
PRECISION_TARGET = 0.9     # issue 26's target for keyword precision


def heard(results: list[dict]) -> list[tuple[dict, list[Label]]]:
    out = []
    for r in results:
        if "labels" not in r:
            continue
        labels = [Label(x["label"], x["probability"], x["mid"]) for x in r["labels"] + r.get("other_labels", [])]
        out.append((r, sorted(labels, key=lambda lb: -lb.probability)))
    return out


def scores(clips, rows: dict, rules: Rules) -> dict:
    v = default_vocabulary()
    right = written = wrong = found = wanted = seconds_right = seconds_wrong = 0
    for r, labels in clips:
        row = rows[r["file"]]
        d = v.describe(labels, rules=rules)
        s = listen.score_written(row, d, v)
        if d.sounds.second is not None:
            lead = v.entry(d.sounds.second.lead.label, d.sounds.second.lead.mid)
            said = {w.lower() for w in (lead.terms if lead else [d.sounds.second.lead.label])}
            seconds_right += bool(said & row["accepted"])
            seconds_wrong += not said & row["accepted"]
        right += s["category_right"] + s["catid_right"] + s["description_right"]
        written += s["keywords_written"]
        wrong += len(s["keywords_wrong"])
        found += len({k.lower() for k in d.keywords} & row["accepted"])
        wanted += len(row["accepted"])
    precision = (written - wrong) / written if written else 0.0
    recall = found / wanted if wanted else 0.0
    beta2 = 0.25
    f05 = (1 + beta2) * precision * recall / (beta2 * precision + recall) if precision + recall else 0.0
    return {"right": right, "precision": round(precision, 3), "recall": round(recall, 3), "f05": round(f05, 4),
            "written": written, "wrong": wrong, "seconds_right": seconds_right, "seconds_wrong": seconds_wrong}


def _middle_of_best(values: list, score) -> object:
    """The best value; among equal best, the middle one of the longest run."""
    s = [score(x) for x in values]
    top = max(s)
    runs, run = [], []
    for x, y in zip(values, s):
        if y == top:
            run.append(x)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    longest = max(runs, key=len)
    return longest[len(longest) // 2]


def tune(clips, rows, only_ratios: bool = False) -> Rules:
    if only_ratios:     # the shipped agreement, refine ratio and keyword floors held as they are
        return _tune_ratios(clips, rows, DEFAULT_RULES)
    table = {(a, r): scores(clips, rows, Rules(**{**DEFAULT_RULES.__dict__, "agreement": a, "refine_ratio": r}))["right"]
             for a in AGREEMENT for r in REFINE}
    agreement = _middle_of_best(AGREEMENT, lambda a: max(table[(a, r)] for r in REFINE))
    refine = _middle_of_best(REFINE, lambda r: table[(agreement, r)])
    base = _tune_ratios(clips, rows, Rules(**{**DEFAULT_RULES.__dict__, "agreement": agreement,
                                               "refine_ratio": refine}))
    precise = {k: scores(clips, rows, Rules(**{**base.__dict__, "keyword_floor": k}))["precision"]
               for k in KEYWORD_FLOOR}
    reaching = [k for k in KEYWORD_FLOOR if precise[k] >= PRECISION_TARGET]
    keyword = reaching[0] if reaching else max(KEYWORD_FLOOR, key=lambda k: (precise[k], -k))
    # the path's own labels may go lower when their sound as a whole is sure: the lowest floor
    # (up to the keyword floor itself) that keeps the precision target
    lower = [k for k in KEYWORD_FLOOR if k <= keyword]
    precise = {k: scores(clips, rows, Rules(**{**base.__dict__, "keyword_floor": keyword,
                                                "path_keyword_floor": k}))["precision"] for k in lower}
    path = next((k for k in lower if precise[k] >= PRECISION_TARGET), keyword)
    return Rules(**{**base.__dict__, "keyword_floor": keyword, "path_keyword_floor": path})


def _tune_ratios(clips, rows, base: Rules) -> Rules:
    table = {(c, b): scores(clips, rows, Rules(**{**base.__dict__, "cross_ratio": c, "bed_ratio": b}))["right"]
             for c in RATIO for b in RATIO}
    cross = _middle_of_best(RATIO, lambda c: max(table[(c, b)] for b in RATIO))
    bed = _middle_of_best(RATIO, lambda b: table[(cross, b)])
    return Rules(**{**base.__dict__, "cross_ratio": cross, "bed_ratio": bed})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("heard", help="listen.py --json output")
    ap.add_argument("--manifest", default=os.path.join(listen.HERE, "manifest.tsv"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--only-ratios", action="store_true",
                    help="tune cross_ratio and bed_ratio alone, the other thresholds as shipped")
    args = ap.parse_args(argv)
    with open(args.heard) as f:
        results = json.load(f)["results"]
    rows = {r["file"]: r for r in listen.read_manifest(args.manifest)}
    clips = heard(results)
    halves = {"A": clips[0::2], "B": clips[1::2]}
    report, chosen = {}, []
    for tuned_on, reported_on in (("A", "B"), ("B", "A")):
        rules = tune(halves[tuned_on], rows, args.only_ratios)
        chosen.append(rules)
        report[f"tuned on {tuned_on}"] = {
            "rules": rules.__dict__,
            f"on {tuned_on} (tuned)": scores(halves[tuned_on], rows, rules),
            f"on {reported_on} (held out)": scores(halves[reported_on], rows, rules),
            f"defaults on {reported_on}": scores(halves[reported_on], rows, DEFAULT_RULES)}
    tuned = ("cross_ratio", "bed_ratio") if args.only_ratios else TUNED
    mean = Rules(**{k: round((getattr(chosen[0], k) + getattr(chosen[1], k)) / 2, 2) for k in tuned}
                 | {k: getattr(DEFAULT_RULES, k) for k in Rules().__dict__ if k not in tuned})
    report["the halves' mean, on all"] = {"rules": mean.__dict__, "scores": scores(clips, rows, mean)}
    report["defaults on all"] = {"rules": DEFAULT_RULES.__dict__, "scores": scores(clips, rows, DEFAULT_RULES)}
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
