"""Text from an admin's teaching upload (.txt, .md, .pdf); anything else is refused by name."""

from __future__ import annotations

from pathlib import Path

TEACH_SUFFIXES = (".txt", ".md", ".markdown", ".pdf")
MAX_TEACH_CHARS = 200_000


class UploadError(ValueError):
    """The file cannot be used for teaching; the message says why."""


def read_teaching_file(path: Path, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in TEACH_SUFFIXES:
        raise UploadError(f"{name}: only .txt, .md or .pdf files can be used for teaching")
    if suffix == ".pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(str(path))
            text = "\n\n".join((page.extract_text() or "") for page in reader.pages)
        except (PdfReadError, OSError, ValueError) as e:
            raise UploadError(f"{name}: could not read the PDF ({e})") from e
    else:
        text = path.read_bytes().decode("utf-8", errors="replace")
    text = text.strip()
    if not text:
        raise UploadError(f"{name}: no text found (a scanned PDF needs OCR first)")
    return text[:MAX_TEACH_CHARS]
