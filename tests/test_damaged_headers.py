"""Damaged headers: named with the reason and left byte-identical; `--repair` writes them, undo is exact."""

from __future__ import annotations

import json
import os
import struct

import audiogen
from conftest import run_sidecar
from sidecar.metadata.riff import aiff, audio_span
from sidecar import formats
from test_riff_build import audio, chunk, fmt_payload, wav

FMT = chunk(b"fmt ", fmt_payload(1, bits=16))
DATA = chunk(b"data", audio(24000, 1, 16, seed=3))


def _with_riff_size(blob: bytes, delta: int) -> bytes:
    return blob[:4] + struct.pack("<I", struct.unpack_from("<I", blob, 4)[0] + delta) + blob[8:]


def _aiff(lib) -> bytes:
    return open(audiogen.write(str(lib / "_source"), "aiff", audiogen.noise(0.5)), "rb").read()


def _aiff_form(blob: bytes, delta: int) -> bytes:
    return blob[:4] + struct.pack(">I", struct.unpack_from(">I", blob, 4)[0] + delta) + blob[8:]


def _aiff_frames(blob: bytes, extra: int) -> bytes:
    at = blob.index(b"COMM") + 8 + 2
    frames = struct.unpack_from(">I", blob, at)[0]
    return blob[:at] + struct.pack(">I", frames + extra) + blob[at + 4:]


def corpus(lib) -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, words the reason must hold)."""
    good = wav([FMT, DATA])
    source = _aiff(lib)
    os.unlink(lib / "_source.aiff")
    return {
        "riff size past the end.wav": (_with_riff_size(good, 1000), "RIFF size"),
        "riff size short.wav": (_with_riff_size(good, -100), "RIFF size"),
        "missing pad byte.wav": (wav([FMT, DATA, chunk(b"smpx", b"odd", pad=False), chunk(b"cue ", bytes(4))]),
                                 "lacks its pad byte"),
        "missing pad before data.wav": (wav([FMT, chunk(b"smpx", b"odd", pad=False), DATA]), "lacks its pad byte"),
        "list shorter than it holds.wav": (wav([FMT, chunk(b"LIST", b"adtl" + b"labl" + struct.pack("<I", 99)
                                                             + b"\1\0\0\0cue"), DATA]), "shorter than what it holds"),
        "list of 2 bytes.wav": (wav([FMT, chunk(b"LIST", b"ab"), DATA]), "no room for its 4-byte list type"),
        "block align 0.wav": (wav([chunk(b"fmt ", fmt_payload(1, bits=16)[:12] + b"\0\0" + b"\x10\0"), DATA]),
                              "block align is 0"),
        "form size past the end.aiff": (_aiff_form(source, 1000), "FORM size"),
        "form size short.aiff": (_aiff_form(source, -100), "FORM size"),
        "frames past the data.aiff": (_aiff_frames(source, 5000), "frame count"),
    }


def _reasons(doc: dict) -> dict[str, str]:
    out = {}
    for item in doc["notes"]:
        out.setdefault(os.path.basename(item["path"]), "")
        out[os.path.basename(item["path"])] += item["note"] + " | "
    for item in doc["failures"]:
        out[os.path.basename(item["path"])] = item["reason"]
    return out


def _audio(path) -> bytes:
    start, length = (aiff.audio_span if str(path).endswith(".aiff") else audio_span)(path)
    with open(path, "rb") as f:
        f.seek(start)
        return f.read(length)


def _make(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    files = corpus(lib)
    for name, (blob, _) in files.items():
        (lib / name).write_bytes(blob)
    return lib, files


def test_damaged_headers_are_named_and_left_byte_identical(tmp_path):
    lib, files = _make(tmp_path)
    result = run_sidecar("scan", str(lib), "--json", "--db", str(tmp_path / "i.db"))
    assert result.returncode in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    reasons = _reasons(doc)
    for name, (blob, words) in files.items():
        assert (lib / name).read_bytes() == blob, name                 # nothing written into it
        assert words in reasons.get(name, ""), (name, reasons.get(name))
    written = [n for n in files if "nothing written into the file" in reasons[n]]
    assert len(written) >= 6                                            # read and classified all the same
    for name in written:
        assert (lib / (name + ".xml")).exists()                         # sidecar and index only


def test_repair_writes_them_with_the_audio_identical_and_undo_is_exact(tmp_path):
    lib, files = _make(tmp_path)
    db = str(tmp_path / "i.db")
    before = {name: _audio(lib / name) for name in files if "block align" not in name}
    result = run_sidecar("scan", str(lib), "--repair", "--json", "--db", db)
    assert result.returncode in (0, 1), result.stderr
    reasons = _reasons(json.loads(result.stdout))
    repaired = [n for n in files if "repaired:" in reasons.get(n, "")]
    assert {"riff size past the end.wav", "riff size short.wav", "missing pad byte.wav",
            "list of 2 bytes.wav", "form size past the end.aiff", "form size short.aiff"} <= set(repaired), reasons
    for name in repaired:
        path = lib / name
        assert path.read_bytes() != files[name][0]
        assert _audio(path) == before[name], name                       # the audio is identical
        fmt = "aiff" if name.endswith(".aiff") else "wav"
        assert not any(files[name][1] in d for d in formats.get(fmt).damage(path)), name
    undo = run_sidecar("undo", "--all", "--json", "--db", db)
    assert undo.returncode == 0, undo.stderr
    for name, (blob, _) in files.items():
        assert (lib / name).read_bytes() == blob, name                  # undo gives back the damaged file
