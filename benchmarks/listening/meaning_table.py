#!/usr/bin/env python3
"""Search by meaning on the listening corpus: 20 queries in words a person would type, what came first.

    .venv/bin/python benchmarks/listening/meaning_table.py [--manifest PATH] [--json]

The corpus's clips are copied into a scratch folder under neutral names (clip01.wav...: a name such
as dog_bark.wav would give the truth away through the file's words; the corpus itself is never
written), scanned by
`sidecar scan` with the embedded engine into a scratch index as a user would, then searched with
`sidecar search --meaning TEXT --json`. Each query names beforehand the clips a person would accept
first (QUERIES below); most share no word with what the scan writes for them. Prints a Markdown
table (query, what came first with its truth and what carried it, the next two) and how many
queries had an accepted clip first and among the first three.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import listen  # noqa: E402

BIN = os.path.dirname(sys.executable)

# (query, clips a person would accept as its first answer)
QUERIES = [
    ("canine", ["dog_bark", "dog_howl_sleep"]),
    ("feline", ["cat_meow", "lion_roar"]),
    ("barnyard", ["rooster_crow", "cow_moo", "horse_neigh", "pig_oink", "duck_quack", "hens", "sheep_flock"]),
    ("songbird at dawn", ["robin_song", "birds_ambience"]),
    ("honey bee", ["bee_buzz"]),
    ("stormy weather", ["thunder"]),
    ("rushing river", ["waterfall", "water_city"]),
    ("fire truck", ["siren_firetruck"]),
    ("cars on a highway", ["traffic"]),
    ("people clapping", ["applause", "sports_crowd"]),
    ("kaboom", ["explosion", "fireworks", "gunshot"]),
    ("pistol shot", ["gunshot"]),
    ("cleaning the carpet", ["vacuum_cleaner"]),
    ("someone asleep", ["snoring", "dog_howl_sleep"]),
    ("man giggling", ["laugh"]),
    ("woman reading a book aloud", ["speech_female_libri", "speech_alsa", "espeak_fr_f"]),
    ("brass solo", ["trumpet"]),
    ("strings section", ["string_orchestra", "violin"]),
    ("wake-up call", ["alarm_clock", "phone_ring"]),
    ("static hiss", ["sox_pinknoise"]),
]


def run(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, capture_output=True, text=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", default=os.path.join(listen.HERE, "manifest.tsv"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = listen.read_manifest(args.manifest)
    truth = {os.path.splitext(os.path.basename(r["file"]))[0]: r["truth"] for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        lib = os.path.join(tmp, "library")
        os.makedirs(lib)
        # neutral names: a clip's name (dog_bark.wav) would give its truth away to the words vector
        name_of = {}
        for i, r in enumerate(rows, 1):
            neutral = f"clip{i:02d}.wav"
            shutil.copy2(r["path"], os.path.join(lib, neutral))
            name_of[f"clip{i:02d}"] = os.path.splitext(os.path.basename(r["file"]))[0]
        config = os.path.join(tmp, "config.toml")
        open(config, "w").close()
        env = {**os.environ, "SIDECAR_DB": os.path.join(tmp, "index.db"), "SIDECAR_CONFIG": config}
        scan = run([os.path.join(BIN, "sidecar"), "scan", "--classifier", "embedded", lib], env)
        if scan.returncode != 0:
            print(f"meaning_table: the scan failed: {scan.stderr.strip()[-500:]}", file=sys.stderr)
            return 2
        results = []
        for query, accepted in QUERIES:
            out = run([os.path.join(BIN, "sidecar"), "search", "--meaning", query, "--limit", "3", "--json"], env)
            if out.returncode != 0:
                print(f"meaning_table: {query!r}: {out.stderr.strip()}", file=sys.stderr)
                return 2
            hits = json.loads(out.stdout)
            names = [name_of[os.path.splitext(os.path.basename(h["path"]))[0]] for h in hits]
            results.append({"query": query, "accepted": accepted, "hits": hits, "names": names,
                            "first_right": bool(names) and names[0] in accepted,
                            "top3_right": any(n in accepted for n in names[:3])})
    if args.json:
        json.dump(results, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print("| query | first | its truth | carried by | then | right |")
    print("|---|---|---|---|---|---|")
    for r in results:
        if not r["hits"]:
            print(f"| {r['query']} | (nothing above 0.2) | | | | no |")
            continue
        first = r["hits"][0]
        print("| {} | {} | {} | {} | {} | {} |".format(
            r["query"], r["names"][0], truth.get(r["names"][0], ""), _why(first).replace("|", "\\|"),
            ", ".join(r["names"][1:3]), "yes" if r["first_right"] else ("top 3" if r["top3_right"] else "no")))
    n = len(results)
    print()
    print(f"An accepted clip first on {sum(r['first_right'] for r in results)} of {n} queries, "
          f"among the first three on {sum(r['top3_right'] for r in results)} of {n}.")
    return 0


def _why(hit: dict) -> str:
    """What carried a hit, the stronger way first (its own words, or the labels it was heard as)."""
    return hit["why"][0] if hit.get("why") else f"score {hit['score']:.2f}"


if __name__ == "__main__":
    sys.exit(main())
