#!/usr/bin/env python3
"""Listen to the corpus with the embedded AudioSet engine and score what it names.

Run with the engine's interpreter:
    .venv/bin/python benchmarks/listening/listen.py [--json] [--manifest PATH]
        [--decode-only] [--only NAME ...]

For each manifest row: decode the clip as the scanner does (format from the content),
classify it, and describe it with the project's vocabulary. A clip is a hit at k when
any of its expected AudioSet labels is among the engine's first k AudioSet labels
(matched by MID, so a renamed display name still counts); the same rates are also
given with the ontology's broader classes above an expected label skipped. Prints a Markdown table and
a summary line, or with --json one JSON document.

What is written is scored against what a person accepts (the manifest's categories, catids and
keywords columns, from expected.tsv beside this script): Category right and CatID right, keyword
precision (the share of written keywords a person accepts) and recall (the share of the words a
person accepts that were written; the quality flags Clipping, DC offset
and Dual mono are measured facts and not counted), and Description right (the sound it names
first is an expected label). Run it with PYTHONPATH set to another checkout's tree to score that
vocabulary's rules on the same clips (the figures before and after a change).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time

HERE = os.path.expanduser("~/.cache/sfx-sidecar/listening")     # where build_corpus.py puts it
_REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), "shared", "reference")
LABELS_CSV = os.path.join(_REFERENCE, "max-class-labels.csv")
ONTOLOGY = os.path.join(_REFERENCE, "audioset-ontology.json")
DEPTHS = (1, 3, 5)
EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.tsv")
FLAGS = {"clipping", "dc offset", "dual mono"}


def read_manifest(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    base = os.path.dirname(os.path.abspath(path))
    person = {}
    if rows and "keywords" not in rows[0]:     # a corpus built before these columns
        with open(EXPECTED, newline="") as f:
            person = {r["clip"]: r for r in csv.DictReader((ln for ln in f if not ln.startswith("#")),
                                                            delimiter="\t")}
    for row in rows:
        row["path"] = row["file"] if os.path.isabs(row["file"]) else os.path.join(base, row["file"])
        row["expected_list"] = [e.strip() for e in row["expected"].split(";") if e.strip()]
        accepted = person.get(os.path.splitext(os.path.basename(row["file"]))[0], row)
        row["categories"] = [c for c in accepted.get("categories", "").split(";") if c]
        row["catids"] = [c for c in accepted.get("catids", "").split(";") if c]
        row["accepted"] = {k.strip().lower() for k in accepted.get("keywords", "").split(",") if k.strip()}
    return rows


def audioset_names() -> dict[str, str]:
    """display name (lower case) -> MID, from the reference list."""
    with open(LABELS_CSV, newline="") as f:
        return {r["display_name"].lower(): r["mid"] for r in csv.DictReader(f)}


def ancestors_of() -> dict[str, set[str]]:
    """MID -> every MID above it in the AudioSet ontology."""
    with open(ONTOLOGY) as f:
        nodes = json.load(f)
    parents: dict[str, set[str]] = {}
    for node in nodes:
        for child in node.get("child_ids", []):
            parents.setdefault(child, set()).add(node["id"])
    memo: dict[str, set[str]] = {}

    def up(mid: str) -> set[str]:
        if mid not in memo:
            memo[mid] = set()
            memo[mid] = {a for p in parents.get(mid, ()) for a in ({p} | up(p))}
        return memo[mid]

    return {mid: up(mid) for mid in {n["id"] for n in nodes}}


def decode_clip(path: str):
    from sidecar.formats import decode, recognise

    rec = recognise(path)
    fmt = rec.format if rec is not None else None
    return fmt, decode(path, fmt)


def rank_of(expected_mids: set[str], expected_names: set[str], labels) -> int | None:
    """1-based rank of the first expected label among the engine's labels, or None."""
    for i, lab in enumerate(labels, 1):
        if (lab.mid and lab.mid in expected_mids) or lab.label.lower() in expected_names:
            return i
    return None


def listen(rows, decode_only: bool, model: dict) -> list[dict]:
    names = audioset_names()
    audioset_mids = set(names.values())
    ancestors = ancestors_of()
    engine = vocabulary = None
    if not decode_only:
        from sidecar.classify.audioset import AudiosetEngine
        from sidecar.vocabulary.vocabulary import default_vocabulary

        engine = AudiosetEngine()
        vocabulary = default_vocabulary()
        model.update(engine.describe_model())
    results = []
    for row in rows:
        out = {"file": row["file"], "truth": row["truth"], "expected": row["expected_list"],
               "source": row["source"], "licence": row["licence"]}
        unknown = [e for e in row["expected_list"] if e.lower() not in names]
        if unknown:
            out["unknown_expected"] = unknown
        try:
            fmt, audio = decode_clip(row["path"])
        except Exception as exc:  # one clip's failure is reported, the run goes on
            out["error"] = f"decode: {exc}"
            results.append(out)
            continue
        out.update(format=fmt, seconds=round(audio.duration, 3), samplerate=audio.samplerate,
                   channels=audio.channels)
        if decode_only:
            results.append(out)
            continue
        t0 = time.perf_counter()
        try:
            classification = engine.classify(audio)
        except Exception as exc:
            out["error"] = f"classify: {exc}"
            results.append(out)
            continue
        out["classify_seconds"] = round(time.perf_counter() - t0, 3)
        # quality flags (clipping, DC offset...) are not AudioSet classes: rank the sound names only
        heard = [l for l in classification.labels if l.mid in audioset_mids or l.label.lower() in names]
        out["labels"] = [{"label": l.label, "probability": l.probability, "mid": l.mid} for l in heard]
        out["other_labels"] = [{"label": l.label, "probability": l.probability, "mid": l.mid}
                               for l in classification.labels if l not in heard]
        expected_names = {e.lower() for e in row["expected_list"]}
        expected_mids = {names[e] for e in expected_names if e in names}
        rank = rank_of(expected_mids, expected_names, heard)
        out["rank"] = rank
        # the engine's scores come in coarse steps: say when the first label shares its score
        out["top1_tied"] = len(heard) > 1 and heard[0].probability == heard[1].probability
        # the same, with the broader classes above an expected one (Animal above Dog) skipped:
        # shows whether only a correct but generic parent stood in front
        above = set().union(*(ancestors.get(m, set()) for m in expected_mids)) - expected_mids
        specific = [l for l in heard if l.mid not in above]
        out["rank_parents_skipped"] = rank_of(expected_mids, expected_names, specific)
        for k in DEPTHS:
            out[f"top{k}"] = rank is not None and rank <= k
            r2 = out["rank_parents_skipped"]
            out[f"top{k}_parents_skipped"] = r2 is not None and r2 <= k
        d = vocabulary.describe(classification.labels)
        out["CatID"] = d.CatID
        out["description"] = d.description
        out["FXName"] = getattr(d, "fxname", "")
        out["keywords"] = d.keywords
        out.update(score_written(row, d, vocabulary))
        results.append(out)
    return results


def first_named(description: str) -> str:
    """The sound a description names first: "Dog growling" of "Dog growling with rain",
    "Growling" of "Growling, dog and cat"."""
    text = description.lower().split(" with ")[0]
    return text.split(", ")[0].split(" and ")[0]


def names(text: str, word: str) -> bool:
    return f" {word} " in f" {text} "


def score_written(row: dict, d, vocabulary) -> dict:
    """What a person would say of the words written for one clip."""
    written = [k for k in d.keywords if k.lower() not in FLAGS]
    wrong = [k for k in written if k.lower() not in row["accepted"]]
    said = first_named(d.description)
    expected_words = set()
    for name in row["expected_list"]:
        entry = vocabulary.entry(name)
        expected_words |= {w.lower() for w in ((entry.terms + entry.synonyms) if entry else (name,))}
    return {"category_right": bool(d.Category) and d.Category in row["categories"],
            "catid_right": bool(d.CatID) and d.CatID.partition("-")[0] in row["catids"],
            "keywords_written": len(written), "keywords_wrong": wrong,
            "keywords_found": len({k.lower() for k in written} & row["accepted"]), "keywords_wanted": len(row["accepted"]),
            "description_right": bool(said) and any(names(said, w) for w in expected_words)}


def summary(results: list[dict]) -> dict:
    scored = [r for r in results if "rank" in r]
    n = len(scored)
    s = {"clips": len(results), "scored": n, "errors": sum(1 for r in results if "error" in r)}
    for k in DEPTHS:
        hits = sum(1 for r in scored if r[f"top{k}"])
        s[f"top{k}_hits"] = hits
        s[f"top{k}_rate"] = round(hits / n, 3) if n else None
    for k in DEPTHS:
        hits = sum(1 for r in scored if r[f"top{k}_parents_skipped"])
        s[f"top{k}_parents_skipped_hits"] = hits
        s[f"top{k}_parents_skipped_rate"] = round(hits / n, 3) if n else None
    s["category_right"] = sum(1 for r in scored if r.get("category_right"))
    s["catid_right"] = sum(1 for r in scored if r.get("catid_right"))
    top5 = [r for r in scored if r.get("top5")]
    s["top5_clips"] = len(top5)
    s["category_right_top5"] = sum(1 for r in top5 if r.get("category_right"))
    top3 = [r for r in scored if r.get("top3")]
    s["top3_clips"] = len(top3)
    s["description_right_top3"] = sum(1 for r in top3 if r.get("description_right"))
    s["description_right"] = sum(1 for r in scored if r.get("description_right"))
    written = sum(r.get("keywords_written", 0) for r in scored)
    wrong = sum(len(r.get("keywords_wrong", [])) for r in scored)
    s["keywords_written"] = written
    s["keywords_wrong"] = wrong
    s["keyword_precision"] = round((written - wrong) / written, 3) if written else None
    found = sum(r.get("keywords_found", 0) for r in scored)
    wanted = sum(r.get("keywords_wanted", 0) for r in scored)
    s["keyword_recall"] = round(found / wanted, 3) if wanted else None
    s["top1_tied"] = sum(1 for r in scored if r.get("top1_tied"))
    s["distinct_probabilities"] = len({l["probability"] for r in scored for l in r["labels"]})
    return s


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(results: list[dict], s: dict, decode_only: bool) -> str:
    lines = []
    if decode_only:
        lines.append("| file | truth | format | seconds | rate | channels | result |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in results:
            lines.append("| {} | {} | {} | {} | {} | {} | {} |".format(
                _cell(os.path.basename(r["file"])), _cell(r["truth"]), r.get("format", ""),
                r.get("seconds", ""), r.get("samplerate", ""), r.get("channels", ""),
                _cell(r.get("error", "decoded"))))
        lines.append("")
        lines.append(f"decoded {s['clips'] - s['errors']} of {s['clips']} clips")
        return "\n".join(lines)
    lines.append("| file | truth | top 3 (probability) | top 3 | top 5 | CatID | Category right | description "
                 "| right | FXName | keywords not accepted |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        name = _cell(os.path.basename(r["file"]))
        if "error" in r:
            lines.append(f"| {name} | {_cell(r['truth'])} | ERROR: {_cell(r['error'])} |" + "  |" * 8)
            continue
        top = "; ".join(f"{l['label']} {l['probability']:.2f}" for l in r["labels"][:3]) or "(nothing kept)"
        mark = lambda hit: "yes" if hit else "no"  # noqa: E731
        wrong = ", ".join(r["keywords_wrong"][:6]) + (" ..." if len(r["keywords_wrong"]) > 6 else "")
        lines.append(f"| {name} | {_cell(r['truth'])} | {_cell(top)} | {mark(r['top3'])} | {mark(r['top5'])} | "
                     f"{r['CatID']} | {mark(r['category_right'])} | {_cell(r['description'])} | "
                     f"{mark(r['description_right'])} | {_cell(r['FXName'])} | {_cell(wrong)} |")
    lines.append("")
    n = s["scored"]
    parts = [f"top-{k} {s[f'top{k}_hits']}/{n} ({100 * (s[f'top{k}_rate'] or 0):.0f}%)" for k in DEPTHS]
    lines.append(f"**{n} clips scored ({s['errors']} errors): " + ", ".join(parts) + "**")
    parts = [f"top-{k} {s[f'top{k}_parents_skipped_hits']}/{n} "
             f"({100 * (s[f'top{k}_parents_skipped_rate'] or 0):.0f}%)" for k in DEPTHS]
    lines.append("")
    lines.append("With the broader classes above an expected label skipped (Animal above Dog): "
                 + ", ".join(parts))
    lines.append("")
    lines.append(f"What is written: Category right {s['category_right']}/{n} (on {s['category_right_top5']} of the "
                 f"{s['top5_clips']} clips whose expected label is in the top 5), CatID right {s['catid_right']}/{n}; "
                 f"keyword precision {s['keyword_precision']} ({s['keywords_written'] - s['keywords_wrong']} of "
                 f"{s['keywords_written']} accepted), recall {s['keyword_recall']} (the share of the accepted words "
                 f"written); Description names the expected sound first on "
                 f"{s['description_right']}/{n} ({s['description_right_top3']} of the {s['top3_clips']} clips whose "
                 f"expected label is in the top 3).")
    lines.append("")
    lines.append(f"First label tied with the second on {s['top1_tied']} clips; "
                 f"{s['distinct_probabilities']} distinct probabilities among all labels shown.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", default=os.path.join(HERE, "manifest.tsv"))
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--decode-only", action="store_true", help="check decoding alone (no engine)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only clips whose file name contains NAME")
    args = ap.parse_args(argv)
    try:
        rows = read_manifest(args.manifest)
    except (OSError, KeyError) as exc:
        print(f"listen: cannot read manifest {args.manifest}: {exc}", file=sys.stderr)
        return 2
    if args.only:
        rows = [r for r in rows if any(o in r["file"] for o in args.only)]
    model: dict = {}
    results = listen(rows, args.decode_only, model)
    s = summary(results)
    if args.json:
        json.dump({"model": model, "summary": s, "results": results}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        if model:
            print(f"engine {model.get('engine')}, model {model.get('model')} ({model.get('source')})\n")
        print(markdown(results, s, args.decode_only))
    return 1 if s["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
