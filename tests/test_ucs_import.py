"""`sidecar ucs import` of the official list as .xlsx, .csv and .json; malformed files."""

from __future__ import annotations

import csv
import json
import sqlite3

import openpyxl
import pytest
from click.testing import CliRunner

from sidecar.app import App
from sidecar.cli.ucs import ucs
from sidecar.config import Config
from sidecar.metadata.record import Label
from sidecar.vocabulary import UcsList, Vocabulary, VocabularyError

HEADER = ["Category", "SubCategory", "CatID", "CatShort", "Explanations", "Synonyms - Comma Separated",
          "Category_fr", "SubCategory_fr"]
ROWS = [
    ["ANIMALS", "DOG", "ANMLDog", "ANML", "Dogs of every kind.", "doggo, mutt", "ANIMAUX", "CHIEN"],
    ["WEATHER", "THUNDER", "THUN", "THUN", "Thunder near and far.", "boomer", "MÉTÉO", "TONNERRE"],
    ["CROWDS", "APPLAUSE", "CRWDApls", "CRWD", "Clapping crowds.", "", "FOULES", "APPLAUDISSEMENTS"],
]


def write_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Universal Category System", None, None])   # a title row above the header, as published
    ws.append([])
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    ws.append([None] * len(HEADER))
    wb.save(path)


def write_csv(path):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(ROWS)


def write_json(path):
    items = [{"version": "8.2.1", "Category": r[0], "SubCategory": r[1], "CatID": r[2], "CatShort": r[3],
              "Explanations": r[4], "Synonyms": [s.strip() for s in r[5].split(",") if s.strip()],
              "Category_fr": r[6], "SubCategory_fr": r[7]} for r in ROWS]
    path.write_text(json.dumps(items), encoding="utf-8")


WRITERS = {"xlsx": write_xlsx, "csv": write_csv, "json": write_json}


def stored_list(db) -> UcsList:
    """The list kept in the index at db, as every command reads it (no index: an empty list)."""
    return App(Config(db=str(db))).ucs_list


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_import_each_form_and_use_it(tmp_path, ext):
    src = tmp_path / f"ucs.{ext}"
    WRITERS[ext](src)
    db = tmp_path / "index.db"
    result = CliRunner().invoke(ucs, ["import", str(src), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["count"] == 3 and summary["languages"] == ["fr"]

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    stored = stored_list(db)
    assert len(stored) == 3
    assert stored.explain("ANMLDog") == "Dogs of every kind."
    assert stored.synonyms("ANMLDog") == ["doggo", "mutt"]
    assert stored.names("THUN")["fr"]["SubCategory"] == "TONNERRE"

    v = Vocabulary.load(ucs_list=stored)
    d = v.describe([Label("Dog", 0.9)])
    assert (d.CatID, d.Category, d.SubCategory) == ("ANMLDog", "ANIMALS", "DOG")
    assert "doggo" not in d.keywords   # the official synonyms explain a CatID; they are never keywords
    assert v.lookup("ANMLDog")["ucs_synonyms"] == ["doggo", "mutt"]
    assert v.parse_ucs_filename("DOORWood_Door_JD_Lib.wav") is None   # not in this list
    assert v.lookup("THUN")["names"]["fr"]["Category"] == "MÉTÉO"
    assert v.explain("THUN") == "Thunder near and far."


def test_import_replaces_the_stored_list_and_info(tmp_path, monkeypatch):
    db = tmp_path / "index.db"
    monkeypatch.setenv("SIDECAR_DB", str(db))
    src = tmp_path / "ucs.csv"
    write_csv(src)
    runner = CliRunner()
    assert runner.invoke(ucs, ["import", str(src)]).exit_code == 0
    assert runner.invoke(ucs, ["import", str(src)]).exit_code == 0
    assert len(stored_list(db)) == 3
    info = runner.invoke(ucs, ["info", "THUN", "--json"])
    assert json.loads(info.output)["Explanations"] == "Thunder near and far."
    assert "3 UCS categories" in runner.invoke(ucs, ["info"]).output


def test_no_database_means_no_list(tmp_path):
    assert not stored_list(tmp_path / "missing.db")
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).close()
    assert len(stored_list(plain)) == 0


def _malformed(tmp_path):
    cases = {}
    p = tmp_path / "noheader.csv"
    p.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    cases[p] = "no header row"
    p = tmp_path / "emptycat.csv"
    p.write_text("Category,SubCategory,CatID\nANIMALS,DOG,\n", encoding="utf-8")
    cases[p] = "row 2: empty CatID"
    p = tmp_path / "dup.csv"
    p.write_text("Category,SubCategory,CatID\nA,B,ANMLDog\nA,C,ANMLDog\n", encoding="utf-8")
    cases[p] = "appears twice"
    p = tmp_path / "badid.csv"
    p.write_text("Category,SubCategory,CatID\nA,B,ANML Dog\n", encoding="utf-8")
    cases[p] = "not letters and digits"
    p = tmp_path / "latin1.csv"
    p.write_bytes("Category,SubCategory,CatID\nM\xc9T\xc9O,B,THUN\n".encode("latin-1"))
    cases[p] = "not UTF-8"
    p = tmp_path / "broken.json"
    p.write_text("[{\"CatID\": ", encoding="utf-8")
    cases[p] = "not valid JSON"
    p = tmp_path / "shape.json"
    p.write_text("{\"a\": 1}", encoding="utf-8")
    cases[p] = "expected a list"
    p = tmp_path / "empty.json"
    p.write_text("[]", encoding="utf-8")
    cases[p] = "no UCS categories"
    p = tmp_path / "fake.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a workbook")
    cases[p] = "not a readable spreadsheet"
    p = tmp_path / "list.txt"
    p.write_text("ANMLDog\n", encoding="utf-8")
    cases[p] = "unsupported file type"
    return cases


def test_malformed_files_give_one_clear_message(tmp_path):
    runner = CliRunner()
    db = tmp_path / "index.db"
    for path, reason in _malformed(tmp_path).items():
        with pytest.raises(VocabularyError, match=reason):
            UcsList.import_file(path)
        result = runner.invoke(ucs, ["import", str(path), "--db", str(db)])
        assert result.exit_code == 1, (path, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and path.name in lines[0], result.output
    assert not db.exists() or len(stored_list(db)) == 0


def test_missing_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(ucs, ["import", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2


def test_reference_json_imports(tmp_path):
    from pathlib import Path
    ref = Path(__file__).parents[1].parent / "shared" / "reference" / "ucs-8.2.1-en.json"
    if not ref.exists():
        pytest.skip(f"{ref} is absent: the shared reference data is only on development machines")
    ucs_list = UcsList.import_file(ref)
    assert len(ucs_list) == 752 and ucs_list.version == "8.2.1"
    assert ucs_list.get("THUN").SubCategory == "THUNDER"
