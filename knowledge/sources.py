"""Turning what an admin hands over (URL, YouTube link, file, pasted text) into plain text.

URLs go through the SSRF-safe fetcher and trafilatura (real main-content extraction, not tag
stripping); YouTube links through youtube-transcript-api; PDFs through pypdf. Every failure is
a SourceError with one sentence an admin can act on (often: paste the text instead).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

from knowledge.fetch import FetchedPage, FetchError, safe_fetch

log = logging.getLogger(__name__)

MAX_SOURCE_CHARS = 200_000
MAX_FILE_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
_YT_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


class SourceError(ValueError):
    """The source could not be turned into text; the message says what to do instead."""


@dataclass
class SourceText:
    text: str
    source: str  # provenance stored with approved entries: the URL, "file:NAME" or "pasted"
    kind: Literal["url", "youtube", "file", "pasted"]
    title: str | None = None


def youtube_video_id(url: str) -> str | None:
    """The 11-character video id of a YouTube watch/short/embed/live/youtu.be link, else None."""
    try:
        parsed = urlparse(url.strip())
    except ValueError:
        return None
    host = (parsed.hostname or "").lower()
    candidate: str | None = None
    if host in ("youtu.be", "www.youtu.be"):
        candidate = parsed.path.lstrip("/").split("/", 1)[0]
    elif host in _YT_HOSTS:
        if parsed.path == "/watch":
            candidate = (parse_qs(parsed.query).get("v") or [""])[0]
        else:
            parts = parsed.path.strip("/").split("/")
            if len(parts) >= 2 and parts[0] in ("shorts", "embed", "live", "v"):
                candidate = parts[1]
    return candidate if candidate and _YT_ID.match(candidate) else None


def _clip(text: str) -> str:
    text = text.strip()
    return text[:MAX_SOURCE_CHARS]


def html_to_text(html: str, url: str | None = None) -> tuple[str, str | None]:
    """Main readable text and title of an HTML page (trafilatura; its baseline as fallback)."""
    import trafilatura

    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=True, favor_recall=True
    )
    if not text:
        text = trafilatura.html2txt(html) or ""
    title = None
    try:
        meta = trafilatura.extract_metadata(html)
        title = meta.title if meta is not None else None
    except Exception:  # metadata is a nicety; never fail a fetch over it
        title = None
    return text, title


def _from_url(url: str, fetch: Callable[[str], FetchedPage]) -> SourceText:
    try:
        page = fetch(url)
    except FetchError as err:
        raise SourceError(f"could not fetch {url}: {err}") from err
    if page.content_type in ("text/html", "application/xhtml+xml"):
        text, title = html_to_text(page.text(), page.final_url)
    else:
        text, title = page.text(), None
    if not text.strip():
        raise SourceError(f"no readable text found at {url}; paste the text instead")
    return SourceText(_clip(text), url, "url", title)


def _from_youtube(url: str, video_id: str, api: Any | None) -> SourceText:
    import requests
    from youtube_transcript_api import (
        IpBlocked,
        NoTranscriptFound,
        RequestBlocked,
        TranscriptsDisabled,
        VideoUnavailable,
        YouTubeTranscriptApi,
        YouTubeTranscriptApiException,
    )

    hint = "paste the transcript text instead (`arbitrage teach -`)"
    try:
        fetched = (api or YouTubeTranscriptApi()).fetch(
            video_id, languages=("en", "en-US", "en-GB")
        )
        pieces = [str(s.text).replace("\n", " ").strip() for s in fetched]
    except (TranscriptsDisabled, NoTranscriptFound):
        raise SourceError(f"this video has no English transcript; {hint}") from None
    except VideoUnavailable:
        raise SourceError(f"YouTube says video {video_id} is unavailable") from None
    except (RequestBlocked, IpBlocked):
        raise SourceError(f"YouTube blocks transcript requests from this network; {hint}") from None
    except YouTubeTranscriptApiException as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SourceError(f"could not get the transcript ({first}); {hint}") from None
    except (requests.RequestException, OSError) as err:
        log.info("youtube transcript fetch failed: %s", err)
        raise SourceError(
            "could not reach YouTube from this machine (the network does not "
            f"allow it or is offline); {hint}"
        ) from None
    pieces = [p for p in pieces if p and not re.fullmatch(r"\[[^\]]*\]", p)]  # [Music] etc.
    if not pieces:
        raise SourceError(f"the transcript of this video is empty; {hint}")
    joined = " ".join(pieces)
    if joined.count(".") + joined.count("?") + joined.count("!") < len(pieces) / 6:
        # auto-generated captions have no punctuation: group snippets into pseudo-sentences
        joined = ". ".join(" ".join(pieces[i : i + 3]) for i in range(0, len(pieces), 3)) + "."
    return SourceText(_clip(joined), url, "youtube", None)


def load_file(path: Path, name: str | None = None) -> SourceText:
    """Text of a .txt/.md/.pdf file; `name` is the original file name when the stored file
    (e.g. a chat upload) has a generated one, so its suffix decides the type."""
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SourceError(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if suffix in TEXT_SUFFIXES:
        text = path.read_text(encoding="utf-8", errors="replace")
    elif suffix == ".pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(str(path))
            text = "\n".join((page.extract_text() or "") for page in reader.pages)
        except (PdfReadError, ValueError, OSError) as err:
            raise SourceError(f"cannot read PDF {name}: {err}") from None
    else:
        raise SourceError(f"unsupported file type {suffix or '(none)'}: use .txt, .md or .pdf")
    if not text.strip():
        raise SourceError(f"no text found in {name} (a scanned PDF has images, not text)")
    return SourceText(_clip(text), f"file:{name}", "file", Path(name).stem)


def load_source(
    value: str, *, fetch: Callable[[str], FetchedPage] = safe_fetch, youtube_api: Any | None = None
) -> SourceText:
    """Text from a URL, a YouTube link, a .txt/.md/.pdf path, or the pasted text itself."""
    v = (value or "").strip()
    if not v:
        raise SourceError("nothing to learn from: the text is empty")
    if re.fullmatch(r"https?://\S+", v, flags=re.IGNORECASE):
        video_id = youtube_video_id(v)
        if video_id:
            return _from_youtube(v, video_id, youtube_api)
        return _from_url(v, fetch)
    if re.fullmatch(r"[a-z][a-z0-9+.-]*://\S+", v, flags=re.IGNORECASE):
        raise SourceError("only http(s) links can be taught")
    if "\n" not in v and len(v) < 1024:
        path = Path(v).expanduser()
        if path.is_file():
            return load_file(path)
        if path.suffix.lower() in (*TEXT_SUFFIXES, ".pdf") and " " not in v:
            raise SourceError(f"no such file: {v}")
    return SourceText(_clip(v), "pasted", "pasted", None)
