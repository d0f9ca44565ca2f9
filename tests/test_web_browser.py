"""The web page in a real browser (Debian's chromium driven by Playwright, never a downloaded
one) over a generated, scanned library: search, play, accept, correct, undo, batch, keyboard,
and text that stays text. Screenshots of the search, review and status views are written to
test-artifacts/web/ (docs/ keeps copies for the README)."""

import os
import shutil
from pathlib import Path

import pytest
import requests
from lxml import etree
from mutagen.flac import FLAC
from wavinfo import WavInfoReader

import audiogen
from conftest import REPO, run_sidecar
from web_support import WebProcess, make_library

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("SIDECAR_TEST_ARTIFACTS", REPO / "test-artifacts")) / "web"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (make install)")


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        # --no-sandbox: chromium's sandbox cannot start as root, nor in most containers as a plain user
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


def sidecar_sources(audio: str) -> dict:
    root = etree.parse(audio + ".xml", etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    return {etree.QName(e).localname: ("".join(e.itertext()).strip(), e.get("source"))
            for e in root.iter() if isinstance(e.tag, str) and e.get("source")}


def row_of(page, name):
    return page.locator("#results tbody tr", has=page.locator(".name", has_text=name))


def select(page, name):
    row_of(page, name).click()


def test_the_page_searches_plays_corrects_undoes_and_batches(tmp_path, browser):
    lib = make_library(tmp_path)
    files = lib["files"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with WebProcess(env=lib["env"]) as web:
        # bypass_csp: the test waits with page functions; markup must stay text without the CSP too
        page = browser.new_page(viewport={"width": 1400, "height": 800}, bypass_csp=True)
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        # the review queue first: every file, nobody has looked at them
        page.goto(web.url + "/")
        page.wait_for_selector("#results tbody tr")
        assert page.locator("#results tbody tr").count() == 5
        page.screenshot(path=str(ARTIFACTS / "review.png"))

        # search
        page.fill("#q", "path:sfxlib")
        page.press("#q", "Enter")
        page.wait_for_selector("#facets button")            # drawn with the search's answer
        assert page.inner_text("#page-info") == "1–5"
        assert page.locator("#results tbody tr").count() == 5
        page.wait_for_function("[...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=str(ARTIFACTS / "search.png"))

        # play: space, the audio element's range request answered 206 and its time advances
        select(page, "hum.wav")
        with page.expect_response(lambda r: "/audio" in r.url) as audio:
            page.keyboard.press(" ")
        assert audio.value.status in (200, 206)
        page.wait_for_function("document.getElementById('player').currentTime > 0")
        page.keyboard.press(" ")

        # accept the machine's CatID of the FLAC file (key a)
        rain_catid = requests.get(f"{web.url}/api/search", params={"q": "name:rain"}).json()["results"][0]["CatID"]
        select(page, "rain.flac")
        page.keyboard.press("a")
        if rain_catid:
            row_of(page, "rain.flac").locator(".src.person").first.wait_for()
            assert sidecar_sources(files["rain"])["CatID"] == (rain_catid, "human")
        else:
            page.wait_for_selector("#message.error")

        # correct a CatID with the picker (Enter), and a Description holding markup
        select(page, "door.wav")
        page.keyboard.press("Enter")
        page.fill("#edit-catid", "door wood")
        page.locator("#catid-picker button", has_text="DOORWood").first.click()
        page.fill("#edit-description", XSS)
        page.click("#edit-save")
        row_of(page, "door.wav").locator(".catid", has_text="DOORWood").wait_for()
        assert row_of(page, "door.wav").locator(".description").inner_text() == XSS
        assert page.evaluate("window.__xss") is None
        wav = WavInfoReader(files["door"], bext_encoding="utf-8")
        assert wav.bext.description == XSS
        assert wav.ixml.parsed.find("USER/CATID").text == "DOORWood"
        assert sidecar_sources(files["door"])["CatID"] == ("DOORWood", "human")
        assert sidecar_sources(files["door"])["Description"] == (XSS, "human")

        # the FLAC corrected too: its Vorbis comments say so
        select(page, "rain.flac")
        page.keyboard.press("Enter")
        page.fill("#edit-catid", "RAINGen")
        page.click("#edit-save")
        row_of(page, "rain.flac").locator(".catid", has_text="RAINGen").wait_for()
        assert FLAC(files["rain"]).tags["CATID"] == ["RAINGen"]

        # undo (key u): the file's bytes come back
        select(page, "door.wav")
        page.keyboard.press("u")
        page.wait_for_function("!document.querySelector('#results').innerText.includes('door.wav')")
        assert open(files["door"], "rb").read() == lib["originals"][files["door"]]
        assert not os.path.exists(files["door"] + ".xml")

        # batch: three rows selected with x, one CatID applied to them
        for name in ("knock.wav", "hiss.wav", "hum.wav"):
            select(page, name)
            page.keyboard.press("x")
        assert page.inner_text("#selection-count") == "3 selected"
        page.fill("#batch-catid", "AMBRoom")
        page.click("#batch-apply")
        page.wait_for_function("document.getElementById('message').innerText.startsWith('3 changed')")
        for name in ("knock", "hiss", "hum"):
            assert sidecar_sources(files[name])["CatID"] == ("AMBRoom", "human")
            assert WavInfoReader(files[name]).ixml.parsed.find("USER/CATID").text == "AMBRoom"

        # more like this (m): the rows become the nearest sounds, the file itself left out
        select(page, "hiss.wav")
        page.keyboard.press("m")
        page.wait_for_function("document.getElementById('message').innerText.startsWith('sounds like hiss.wav')")
        assert page.locator("#results tbody tr").count() >= 1
        assert row_of(page, "hiss.wav").count() == 0

        # the help overlay lists the keys
        page.keyboard.press("?")
        assert page.is_visible("#help") and "more like this" in page.inner_text("#help")
        page.keyboard.press("Escape")

        # status
        page.keyboard.press("3")
        page.wait_for_selector("#status-view .card")
        assert "Categories" in page.inner_text("#status-view")
        page.screenshot(path=str(ARTIFACTS / "status.png"))
        assert errors == []


def test_every_displayed_field_shows_markup_as_text(tmp_path, browser):
    lib = make_library(tmp_path)
    # a file name and a folder name holding markup too
    marked = audiogen.write(str(lib["lib"] / "<i onmouseover=x>" / "<img src=x onerror=window.__xss=1>"),
                            "wav16", audiogen.tone(330.0, seconds=0.3))
    assert run_sidecar("scan", str(lib["lib"]), env=lib["env"]).returncode == 0
    with WebProcess(env=lib["env"]) as web:
        hum = requests.get(f"{web.url}/api/search", params={"q": "name:hum"}).json()["results"][0]["id"]
        fields = {"Description": XSS + " d", "Keywords": XSS.replace(",", " ") + " k", "FXName": XSS + " f",
                  "CatID": XSS + "c"}
        got = requests.post(f"{web.url}/api/files/{hum}/fields", json=fields, headers={"Origin": web.url})
        assert got.status_code == 200, got.text
        page = browser.new_page(bypass_csp=True)    # text stays text without the CSP too
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(web.url + "/?q=name:hum")
        page.wait_for_selector("#results tbody tr")
        text = page.inner_text("#results")
        assert XSS + " d" in text and XSS + " f" in text and XSS + "c" in text
        assert page.evaluate("window.__xss") is None and page.locator("#results img:not(.thumb)").count() == 0
        page.keyboard.press("Enter")
        assert page.input_value("#edit-description") == XSS + " d"
        page.keyboard.press("Escape")
        # the facets, the review queue and the status view show the same values as text
        assert XSS + "c" in page.inner_text("#facets")
        page.goto(web.url + "/")
        page.wait_for_selector("#results tbody tr")
        text = page.inner_text("#results")
        assert os.path.basename(marked) in text and "<i onmouseover=x>" in text
        page.keyboard.press("3")
        page.wait_for_selector("#status-view .card")
        assert XSS + "c" in page.inner_text("#status-view")
        assert page.evaluate("window.__xss") is None
        assert errors == []
