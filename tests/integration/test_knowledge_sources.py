"""load_source: URL (through the safe fetcher + trafilatura), YouTube, files and pasted text."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from knowledge.fetch import safe_fetch
from knowledge.sources import SourceError, load_source, youtube_video_id

pytestmark = pytest.mark.integration

ARTICLE_HTML = b"""<html><head><title>Five textbook lessons</title></head><body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a> | Subscribe to our newsletter</nav>
<article><h1>Five textbook lessons</h1>
<p>If a used textbook sells for under $20 in October and its peak price last August was above
$60, buy it and hold it until the August rush.</p>
<p>Textbook prices follow the academic calendar because students buy at the start of each
semester, which means the trough comes in October.</p>
</article><footer>Copyright 2025 Example Blog. Cookie settings.</footer></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body, ctype = (
            (ARTICLE_HTML, "text/html")
            if self.path == "/article"
            else (b"Keep $500 in reserve for the August textbook season.", "text/markdown")
        )
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fetch() -> Iterator[Any]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    port = httpd.server_address[1]

    def resolver(host: str, p: int) -> list[str]:
        return ["127.0.0.1"]

    try:
        yield (
            port,
            functools.partial(
                safe_fetch, resolver=resolver, is_allowed=lambda ip: str(ip) == "127.0.0.1"
            ),
        )
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_url_becomes_main_text(fetch: Any) -> None:
    port, fetcher = fetch
    src = load_source(f"http://blog.example:{port}/article", fetch=fetcher)
    assert src.kind == "url" and src.source == f"http://blog.example:{port}/article"
    assert "under $20 in October" in src.text and "academic calendar" in src.text
    assert "Cookie settings" not in src.text  # boilerplate removed by trafilatura
    assert src.title == "Five textbook lessons"
    md = load_source(f"http://blog.example:{port}/notes.md", fetch=fetcher)
    assert md.text.startswith("Keep $500")


def test_internal_url_is_a_clear_source_error() -> None:
    with pytest.raises(SourceError, match="internal address"):
        load_source("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(SourceError, match="http"):
        load_source("file:///etc/passwd")


def test_youtube_ids() -> None:
    vid = "dQw4w9WgXcQ"
    for url in (
        f"https://www.youtube.com/watch?v={vid}&t=42",
        f"https://youtu.be/{vid}",
        f"https://m.youtube.com/shorts/{vid}",
        f"https://www.youtube.com/embed/{vid}",
    ):
        assert youtube_video_id(url) == vid
    assert youtube_video_id("https://www.youtube.com/feed/trending") is None
    assert youtube_video_id("https://example.com/watch?v=dQw4w9WgXcQ") is None


class _NoNetwork(HTTPAdapter):
    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise requests.ConnectionError(f"network disabled for {request.url}")


def test_youtube_without_network_says_so() -> None:
    from youtube_transcript_api import YouTubeTranscriptApi

    http = requests.Session()
    http.mount("https://", _NoNetwork())
    http.mount("http://", _NoNetwork())
    with pytest.raises(SourceError, match=r"could not reach YouTube.*paste the transcript"):
        load_source(
            "https://youtu.be/dQw4w9WgXcQ", youtube_api=YouTubeTranscriptApi(http_client=http)
        )


def test_youtube_transcript_text() -> None:
    class Snip:
        def __init__(self, text: str) -> None:
            self.text = text

    class Api:
        def fetch(self, video_id: str, languages: Any = ("en",)) -> list[Snip]:
            assert video_id == "dQw4w9WgXcQ"
            return [
                Snip("[Music]"),
                Snip("so when a textbook"),
                Snip("drops under 20 dollars"),
                Snip("in october"),
                Snip("you buy it and hold"),
            ]

    src = load_source("https://www.youtube.com/watch?v=dQw4w9WgXcQ", youtube_api=Api())
    assert src.kind == "youtube" and "[Music]" not in src.text
    assert "so when a textbook drops under 20 dollars" in src.text


def _tiny_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_files_and_pasted_text(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text("# Notes\n\nBuy textbooks under $20 in October.\n")
    src = load_source(str(md))
    assert (src.kind, src.source) == ("file", "file:notes.md") and "$20" in src.text
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(_tiny_pdf("Sell textbooks in August at the peak."))
    assert "Sell textbooks in August" in load_source(str(pdf)).text
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(SourceError, match="unsupported file type"):
        load_source(str(tmp_path / "data.xlsx"))
    with pytest.raises(SourceError, match="no such file"):
        load_source(str(tmp_path / "missing.pdf"))
    with pytest.raises(SourceError, match="empty"):
        load_source("   \n ")
    pasted = load_source("Never buy a book when Amazon holds the buy box.")
    assert (pasted.kind, pasted.source) == ("pasted", "pasted")
