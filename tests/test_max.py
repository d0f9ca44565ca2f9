"""The MAX client against `sidecar serve-max` over real HTTP on loopback."""

import io
import threading
import time

import numpy as np
import pytest
import requests
import soundfile as sf

from conftest import ServeMax, free_port
from sidecar.audio.decode import Audio, decode
from sidecar.audio.pcm16 import prepare, to_int16, wav_bytes
from sidecar.classify.max_client import MaxClient
from sidecar.errors import ClassifierError
from tests_support import audio_of
import audiogen

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels


def test_metadata_names_the_model_that_answers_in_max_shape(serve_max):
    meta = requests.get(serve_max.url + "/model/metadata").json()
    assert {"id", "name", "description", "license"} <= set(meta)      # MAX's required keys
    assert meta["id"].startswith("yamnet") and "YAMNet" in meta["name"] and "521 classes" in meta["description"]
    assert meta["license"] == "Apache 2.0"
    swagger = requests.get(serve_max.url + "/swagger.json").json()
    assert swagger["info"]["title"] == "MAX Audio Classifier"
    assert swagger["info"]["version"] == "1.2.0"
    assert "/model/predict" in swagger["paths"]


def _wav(seconds=2.0, freq=1000.0):
    return wav_bytes(prepare(Audio(audiogen.tone(freq, seconds)[:, None], 48000)))


def test_predict_answer_shape(serve_max):
    r = requests.post(serve_max.url + "/model/predict", files={"audio": ("a.wav", _wav(), "audio/wav")})
    assert r.status_code == 200
    doc = r.json()
    assert doc["status"] == "ok"
    preds = doc["predictions"]
    assert 1 <= len(preds) <= 5
    assert set(preds[0]) == {"label_id", "label", "probability"}
    probs = [p["probability"] for p in preds]
    assert probs == sorted(probs, reverse=True)
    assert any(p["label"] == "Sine wave" and p["label_id"] == "/m/01v_m0" for p in preds)


def test_wrong_mimetype_is_400_with_max_message(serve_max):
    r = requests.post(serve_max.url + "/model/predict", files={"audio": ("a.mp3", b"ID3....", "audio/mpeg")})
    assert r.status_code == 400
    assert r.json() == {"status": "error", "message": "Invalid file type/extension: audio/mpeg"}


def test_start_time_outside_the_clip_is_400(serve_max):
    r = requests.post(serve_max.url + "/model/predict", data={"start_time": "5"},
                      files={"audio": ("a.wav", _wav(2.0), "audio/wav")})
    assert r.status_code == 400
    assert r.json()["message"] == "Invalid start time: value outside audio clip"


def test_only_16_bit_pcm_is_accepted(serve_max):
    buf = io.BytesIO()
    sf.write(buf, audiogen.tone(), 48000, format="WAV", subtype="FLOAT")
    r = requests.post(serve_max.url + "/model/predict", files={"audio": ("a.wav", buf.getvalue(), "audio/wav")})
    assert r.status_code == 400 and r.json()["status"] == "error"


def test_filter_returns_only_named_labels(serve_max):
    client = MaxClient([serve_max.url])
    # 440 Hz is the dial tone's upper note: the AudioSet engine hears a telephone
    preds = client.predict(_wav(freq=440.0), label_filter=["Dial tone", "", " Alarm "])
    assert {p["label"] for p in preds} == {"Dial tone", "Alarm"}
    assert client.predict(_wav(), label_filter=["Dog"]) == []


def test_client_refuses_on_400_without_retrying(serve_max):
    client = MaxClient([serve_max.url], retries=3, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(ClassifierError, match="Invalid file type"):
        client.predict(b"not audio", mimetype="text/plain")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kind", ["wav24_96k", "wav32f", "rf64", "wav_multichannel", "aiff", "flac", "mp3"])
def test_any_input_is_converted_to_16_bit_pcm(tmp_path, kind):
    path = audiogen.write(str(tmp_path / f"in_{kind}"), kind, rate=96000 if kind == "wav24_96k" else None)
    audio = decode(path)
    payload = wav_bytes(prepare(audio))
    with sf.SoundFile(io.BytesIO(payload)) as f:
        assert (f.format, f.subtype, f.channels, f.samplerate) == ("WAV", "PCM_16", 1, 16000)
        assert abs(f.frames / 16000 - audio.duration) < 0.01


def test_safe_clipping_never_wraps():
    x = np.array([[1.5], [-1.5], [0.5], [1.0], [-1.0]], dtype=np.float32)
    assert to_int16(x)[:, 0].tolist() == [32767, -32767, 16384, 32767, -32767]


def test_windows_of_a_35_second_file(serve_max):
    x = np.concatenate([audiogen.tone(1000, 10), audiogen.noise(10), audiogen.tone(1000, 10), audiogen.noise(5)])
    client = MaxClient([serve_max.url])
    result = client.classify(Audio(x[:, None], 48000, 24))
    assert [w.start for w in result.windows] == [0.0, 10.0, 20.0, 30.0]
    assert [w.duration for w in result.windows] == [10.0, 10.0, 10.0, 5.0]
    first = {l.label for l in result.windows[0].labels}
    second = {l.label for l in result.windows[1].labels}
    assert "Sine wave" in first and "Sine wave" not in second      # a long file changes
    assert "White noise" in second and "White noise" not in first
    # the file keeps each window's strongest sound (not every window's top five: a fifth label
    # may sit a hair from the file's tenth on another CPU)
    assert {"Sine wave", "White noise"} <= {l.label for l in result.labels}
    assert all(l.source == "max" for l in result.labels)


def test_nothing_listening_gives_one_clear_line():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ClassifierError) as err:
        MaxClient([url], retries=1, backoff=0.01).check()
    message = str(err.value)
    assert url in message and "docker compose up max" in message and "\n" not in message


def test_retries_when_the_server_stops_and_starts_again():
    server = ServeMax().start()
    # nine tries wait about 30 s in all: enough for a restart that loads the model on a busy machine
    client = MaxClient([server.url], retries=9, backoff=0.25, skip_seconds=0.1)
    assert client.predict(_wav())
    server.stop()
    restarter = threading.Timer(1.0, server.start)
    restarter.start()
    try:
        preds = client.predict(_wav())     # fails while down, succeeds after the restart
        assert preds
    finally:
        restarter.join()
        server.stop()


def test_round_robin_skips_an_unhealthy_container(serve_max):
    dead = f"http://127.0.0.1:{free_port()}"
    client = MaxClient([dead, serve_max.url], retries=2, backoff=0.01, skip_seconds=60)
    answers = client.check()
    assert list(answers) == [serve_max.url]
    for _ in range(4):
        assert client.predict(_wav())
