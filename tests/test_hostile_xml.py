"""Hostile and malformed XML: one clear error naming the file and the reason, nothing changed, no hang."""

from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from sidecar.errors import ContainerError
from sidecar.metadata import sidecar_xml as sx
from sidecar.metadata.record import Provenance, Record
from sidecar.metadata.safe_xml import XMLDocumentError, parse_xml_bytes

SECRET = "TOP-SECRET-CONTENT-4242"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<SFXSidecar xmlns="urn:sfx-sidecar:sidecar:1" version="1.0"><File><Name>&lol9;</Name></File></SFXSidecar>
"""

QUADRATIC_BLOWUP = (b'<!DOCTYPE x [<!ENTITY a "' + b"A" * 50_000 + b'">]><x>' + b"&a;" * 50_000 + b"</x>")


def good_document() -> bytes:
    record = Record(Description="Door", provenance=Provenance(machine_fields=["Description"]))
    return sx.render(record, sx.Identity("door.wav", 10, "pcm:00"))


def external_entity(url: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE SFXSidecar [<!ENTITY xxe SYSTEM "{url}">]>\n'
            '<SFXSidecar xmlns="urn:sfx-sidecar:sidecar:1" version="1.0"><File><Name>&xxe;</Name>'
            "<Size>1</Size><Fingerprint/></File><Metadata/></SFXSidecar>").encode()


def parameter_entity(url: str) -> bytes:
    return (f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{url}"> %p;]>'
            '<SFXSidecar xmlns="urn:sfx-sidecar:sidecar:1" version="1.0"/>').encode()


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.fixture
def http_server():
    """A local server that records whether anyone fetched from it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            body = SECRET.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/evil.dtd", hits
    server.shutdown()
    server.server_close()


def corpus(secret_file, url) -> dict[str, tuple[bytes, str]]:
    good = good_document()
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    return {
        "billion-laughs": (BILLION_LAUGHS, "DOCTYPE"),
        "quadratic-blowup": (QUADRATIC_BLOWUP, "DOCTYPE"),
        "xxe-file": (external_entity(secret_file.as_uri()), "DOCTYPE"),
        "xxe-http": (external_entity(url), "DOCTYPE"),
        "parameter-entity-http": (parameter_entity(url), "DOCTYPE"),
        "external-dtd": (f'<!DOCTYPE SFXSidecar SYSTEM "{url}"><SFXSidecar/>'.encode(), "DOCTYPE"),
        "doctype-utf16": ('\ufeff<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'
                          .encode("utf-16-le"), "DOCTYPE"),
        "invalid-utf8": (good.replace(b"Door", b"Do\xff\xfer"), "not well-formed XML"),
        "latin1-without-declaration": (good.replace(b"Door", "Café".encode("latin-1")), "not well-formed XML"),
        "wrong-root": (b'<?xml version="1.0"?><BWFXML><USER/></BWFXML>', "root element is <BWFXML>"),
        "no-namespace": (good.replace(b' xmlns="urn:sfx-sidecar:sidecar:1"', b""), "namespace"),
        "truncated": (good[: len(good) // 2], "not well-formed XML"),
        "empty": (b"", "empty"),
        "not-xml": (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not well-formed XML"),
        "undeclared-entity": (good.replace(b">Door<", b">&nbsp;Door<"), "not well-formed XML"),
        "deep-nesting": (deep, "not well-formed XML"),
        "huge": (good.replace(b"<Notes/>", b"<Notes>" + b"x" * (sx.MAX_SIDECAR_BYTES + 1) + b"</Notes>"),
                 "more than the limit"),
        "wrong-structure": (good.replace(b"<Size>10</Size>", b""), "does not match schema"),
    }


CASES = ["billion-laughs", "quadratic-blowup", "xxe-file", "xxe-http", "parameter-entity-http", "external-dtd",
         "doctype-utf16", "invalid-utf8", "latin1-without-declaration", "wrong-root", "no-namespace",
         "truncated", "empty", "not-xml", "undeclared-entity", "deep-nesting", "huge", "wrong-structure"]


@pytest.mark.parametrize("case", CASES)
def test_hostile_sidecar_is_refused(case, tmp_path, secret_file, http_server):
    url, hits = http_server
    data, reason = corpus(secret_file, url)[case]
    target = tmp_path / "door.wav.xml"
    target.write_bytes(data)
    before = sorted(os.listdir(tmp_path))

    started = time.monotonic()
    with pytest.raises(ContainerError) as info:
        sx.read(target)
    message = str(info.value)
    assert message.startswith(f"{target}: "), message
    assert reason in message
    assert "\n" not in message and SECRET not in message
    assert time.monotonic() - started < 5

    # A rescan over the hostile sidecar changes nothing either.
    with pytest.raises(ContainerError):
        sx.write(tmp_path / "door.wav", Record(Description="new"), sx.Identity("door.wav", 1, "x"))
    assert target.read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == before
    assert hits == []  # nothing was fetched


def test_parser_never_expands_or_fetches_even_without_the_doctype_check(secret_file, http_server):
    """The parser options alone are safe: a DOCTYPE the byte scan cannot see is refused after parsing."""
    url, hits = http_server
    data = external_entity(secret_file.as_uri()).decode().encode("utf-32")
    with pytest.raises(XMLDocumentError) as info:
        parse_xml_bytes(data, max_bytes=1 << 20, what="utf32.xml")
    assert SECRET not in str(info.value)
    assert hits == []


def test_size_limit_is_checked_before_parsing():
    with pytest.raises(XMLDocumentError, match="more than the limit of 10"):
        parse_xml_bytes(b"<a>" + b"x" * 20 + b"</a>", max_bytes=10, what="small.xml")


def test_parse_xml_bytes_takes_only_bytes():
    with pytest.raises(TypeError):
        parse_xml_bytes("<a/>", max_bytes=10, what="text")  # type: ignore[arg-type]


def test_validate_names_the_reason_for_bytes():
    with pytest.raises(ContainerError, match="sidecar document: document has a DOCTYPE"):
        sx.validate(BILLION_LAUGHS)
