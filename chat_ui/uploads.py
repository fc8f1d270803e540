"""Text from an admin's teaching upload (.txt, .md, .pdf), read by the knowledge loader."""

from __future__ import annotations

from pathlib import Path

from knowledge.sources import SourceError, load_file


class UploadError(ValueError):
    """The file cannot be used for teaching; the message says why."""


def read_teaching_file(path: Path, name: str) -> str:
    """Same rules as `arbitrage teach FILE`: type from the original name, size cap, no OCR."""
    try:
        return load_file(path, name).text
    except SourceError as err:
        raise UploadError(str(err)) from None
