"""Extraction: source text -> candidate strategies and mental models, then admin approval.

With an LLM: structured output into pydantic schemas at low temperature. Without one: an
offline extractor (sentences with conditions and numbers become strategy candidates,
explanatory sentences mental-model candidates). Candidates are plain data; nothing is stored
until `approve` is called by an admin.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field
from sqlmodel import Session

from knowledge.store import (
    Actor,
    KnowledgeError,
    SaveResult,
    find_duplicate,
    require_admin,
    save_mental_model,
    save_strategy,
)
from knowledge.text import guess_category, normalize_category, similarity

if TYPE_CHECKING:
    from langchain_core.language_models import LanguageModelInput
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable

log = logging.getLogger(__name__)

MAX_CANDIDATES = 40
CHUNK_CHARS = 12_000
MAX_CHUNKS = 6
CATEGORY_HINT = "textbooks, seasonal, fees, gating, risk, pricing, sourcing or general"


# ---- schemas (the LLM fills these) ---------------------------------------------------------


class StrategyCandidate(BaseModel):
    """An actionable rule for a reseller: IF condition THEN action, with its numbers."""

    text: str = Field(
        description="The rule as one self-contained sentence in the form "
        "'If/When <condition>, <action>', keeping the source's numbers."
    )
    category: str = Field(default="general", description=f"One of: {CATEGORY_HINT}.")
    conditions: list[str] = Field(
        default_factory=list, description="The conditions that trigger the rule."
    )
    numbers: list[str] = Field(
        default_factory=list, description="Thresholds, prices, percentages, ranks or months."
    )


class MentalModelCandidate(BaseModel):
    """A concept that explains why markets behave as they do (the reasoning behind rules)."""

    title: str = Field(description="A short name for the concept (2-8 words).")
    text: str = Field(description="The explanation in 1-3 sentences.")
    category: str = Field(default="general", description=f"One of: {CATEGORY_HINT}.")


class ExtractedKnowledge(BaseModel):
    """Knowledge found in a source text about reselling on Amazon (books, textbooks, FBA)."""

    strategies: list[StrategyCandidate] = Field(default_factory=list)
    mental_models: list[MentalModelCandidate] = Field(default_factory=list)


class Candidate(BaseModel):
    """One reviewable candidate with its provenance; what the UI shows and `approve` saves."""

    kind: Literal["strategy", "mental_model"]
    text: str
    category: str = "general"
    title: str | None = None
    conditions: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)
    source: str = "pasted"
    origin: Literal["llm", "offline"] = "offline"
    duplicate_of: str | None = None  # ref ("S3") of a stored near-duplicate, if any


@dataclass
class Extraction:
    candidates: list[Candidate]
    method: Literal["llm", "offline"]
    note: str | None = None


@dataclass
class ApprovalResult:
    candidate: Candidate
    approved: bool
    result: SaveResult | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        if not self.approved:
            return "rejected"
        if self.error:
            return "invalid"
        return self.result.status if self.result else "rejected"


# ---- offline extractor -----------------------------------------------------------------------

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|"
    "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_MONTH = re.compile(rf"\b(?:{_MONTHS})\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?:[$€£]\s?\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s?[kKmM]\b)?"
    r"|\b\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s?(?:%|percent\b|[kKmM]\b|x\b|days?\b|weeks?\b|months?\b"
    r"|years?\b|hours?\b|minutes?\b|stars?\b|lbs?\b|pounds?\b|oz\b))?)"
)
_CONDITION = re.compile(
    r"\b(?:if|when|whenever|unless|only if|once|before|after|until|below|above|under|over|"
    r"at least|at most|less than|more than|greater than|fewer than|no more than|between|"
    r"within|during|in (?:" + _MONTHS + r"))\b|[<>≤≥]",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"\b(?:if|when|whenever|unless|once|only if)\b[^,;:]{3,120}", re.IGNORECASE)
_ACTION = re.compile(
    r"\b(?:buy|sell|list|pass|skip|avoid|hold|reprice|check|never|always|don't|do not|reject|"
    r"source|send|keep|wait|raise|lower|price|aim|target|require|must|should|walk away)\b",
    re.IGNORECASE,
)
_EXPLAIN = re.compile(
    r"\b(?:because|since|so that|which means|this means|that means|the reason|due to|why|"
    r"therefore|explains?|tends? to|usually|typically|means|happens|demand|supply|market|"
    r"the idea|concept|works by|is driven by)\b",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
_SPLIT = re.compile(
    r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9$])|\n\s*\n"
    r"|\n(?=\s*(?:[-*•·]|\d{1,2}[.)])\s)"
)
_TITLE_CUT = re.compile(
    r"\s*(?:,|;|:|—|–| - |\bbecause\b|\bsince\b|\bwhich\b|\bso that\b|"
    r"\bdue to\b)\s*",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[str]:
    out = []
    for part in _SPLIT.split(text):
        line = _BULLET.sub("", " ".join(part.split())).strip(" \"'")
        if line:
            out.append(line)
    return out


def _numbers(sentence: str) -> list[str]:
    found: list[str] = []
    for m in _NUMBER.finditer(sentence):
        token = m.group(0).strip()
        if token and token not in found:
            found.append(token)
    for m in _MONTH.finditer(sentence):
        month = m.group(0).capitalize()
        if month not in found:
            found.append(month)
    return found


def _title_for(sentence: str) -> str:
    head = _TITLE_CUT.split(sentence, maxsplit=1)[0].strip(" .!?")
    words = head.split()
    if len(words) < 2:
        words = sentence.strip(" .!?").split()
    title = " ".join(words[:8])
    return title[:1].upper() + title[1:]


def offline_extract(text: str, source: str = "pasted") -> list[Candidate]:
    """Rule-based candidates: conditional sentences with numbers -> strategies; explanatory
    sentences -> mental models. Honest and deterministic; an LLM does this better."""
    out: list[Candidate] = []
    for s in _sentences(text):
        if len(s) < 25 or len(s) > 600 or s.endswith("?"):
            continue
        nums = _numbers(s)
        has_cond = bool(_CONDITION.search(s))
        explains, acts = bool(_EXPLAIN.search(s)), bool(_ACTION.search(s))
        if nums and (acts or (has_cond and not explains)):
            conditions = [m.group(0).strip(" .") for m in _CLAUSE.finditer(s)]
            out.append(
                Candidate(
                    kind="strategy",
                    text=s,
                    category=guess_category(s),
                    conditions=conditions,
                    numbers=nums,
                    source=source,
                    origin="offline",
                )
            )
        elif explains and len(s.split()) >= 8:
            out.append(
                Candidate(
                    kind="mental_model",
                    title=_title_for(s),
                    text=s,
                    category=guess_category(s),
                    source=source,
                    origin="offline",
                )
            )
    return _dedupe(out)


# ---- LLM extractor ---------------------------------------------------------------------------

SYSTEM_PROMPT = f"""You extract reusable knowledge for Amazon online-arbitrage sellers (used
books, textbooks, FBA) from a source text.
- strategies: actionable rules "If/When <condition>, <action>" that keep the concrete numbers the
  source states (prices, percentages, ranks, months, days). One rule per item, self-contained,
  faithful to the source. Never invent rules or numbers the source does not support.
- mental_models: concepts that explain WHY (market dynamics, seasonality, risk), each with a
  short title and a 1-3 sentence explanation.
Categories: {CATEGORY_HINT}. Skip ads, greetings, sponsor reads and anything unrelated to
selling. Return empty lists when the text has nothing useful."""


def _chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    paragraphs = re.split(r"\n\s*\n", text)
    chunks: list[str] = []
    cur = ""
    for p in paragraphs:
        while len(p) > size:  # a giant paragraph (a transcript): cut at a sentence end
            cut = p.rfind(". ", 0, size)
            cut = cut + 1 if cut > size // 2 else size
            chunks.append((cur + "\n\n" + p[:cut]).strip() if cur else p[:cut])
            cur, p = "", p[cut:].strip()
        if len(cur) + len(p) + 2 > size and cur:
            chunks.append(cur)
            cur = p
        else:
            cur = f"{cur}\n\n{p}" if cur else p
    if cur.strip():
        chunks.append(cur)
    return chunks


def _structured(model: BaseChatModel) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
    try:  # function calling is what OpenAI, xAI and most local servers all support
        from langchain_openai.chat_models.base import BaseChatOpenAI

        if isinstance(model, BaseChatOpenAI):
            return model.with_structured_output(ExtractedKnowledge, method="function_calling")
    except ImportError:  # pragma: no cover - langchain-openai is a dependency
        pass
    return model.with_structured_output(ExtractedKnowledge)


def llm_extract(text: str, source: str, model: BaseChatModel) -> list[Candidate]:
    """Structured-output extraction, chunk by chunk; raises on model errors."""
    from langchain_core.messages import HumanMessage, SystemMessage

    runnable = _structured(model)
    out: list[Candidate] = []
    for chunk in _chunks(text)[:MAX_CHUNKS]:
        result = runnable.invoke(
            [SystemMessage(SYSTEM_PROMPT), HumanMessage(f"Source: {source}\n\n{chunk}")]
        )
        if isinstance(result, dict):
            result = ExtractedKnowledge.model_validate(result)
        if not isinstance(result, ExtractedKnowledge):
            raise ValueError(f"model returned {type(result).__name__}, not the schema")
        for s in result.strategies:
            out.append(
                Candidate(
                    kind="strategy",
                    text=s.text.strip(),
                    category=normalize_category(s.category or guess_category(s.text)),
                    conditions=s.conditions,
                    numbers=s.numbers,
                    source=source,
                    origin="llm",
                )
            )
        for m in result.mental_models:
            out.append(
                Candidate(
                    kind="mental_model",
                    title=m.title.strip(),
                    text=m.text.strip(),
                    category=normalize_category(m.category or guess_category(m.text)),
                    source=source,
                    origin="llm",
                )
            )
    return _dedupe([c for c in out if len(c.text) >= 10])


def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    kept: list[Candidate] = []
    for c in cands:
        if not any(k.kind == c.kind and similarity(k.text, c.text) >= 0.85 for k in kept):
            kept.append(c)
    return kept[:MAX_CANDIDATES]


def extract(text: str, source: str = "pasted", model: BaseChatModel | None = None) -> Extraction:
    """Candidates from text, with the LLM when given one (falling back, with a note, when the
    model fails so the admin still gets something to review)."""
    if not text or not text.strip():
        raise KnowledgeError("nothing to extract from: the text is empty")
    if model is not None:
        try:
            return Extraction(llm_extract(text, source, model), "llm")
        except Exception as err:  # network, quota, malformed output: report and degrade
            log.warning("LLM extraction failed, using the offline extractor: %s", err)
            return Extraction(
                offline_extract(text, source),
                "offline",
                note=f"the LLM extraction failed ({type(err).__name__}: "
                f"{str(err)[:200]}); these come from the offline extractor",
            )
    return Extraction(offline_extract(text, source), "offline")


def extract_candidates(
    text: str, source: str = "pasted", model: BaseChatModel | None = None
) -> list[Candidate]:
    """extract(...).candidates: the shape most callers want."""
    return extract(text, source, model).candidates


def mark_duplicates(session: Session, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Fill `duplicate_of` with the ref of a stored near-duplicate, for the review screen."""
    for c in candidates:
        dup = find_duplicate(session, c.kind, c.text, c.title)
        c.duplicate_of = dup[0].ref if dup else None
    return list(candidates)


def approve(
    session: Session,
    candidates: Sequence[Candidate],
    decisions: Sequence[bool] | Mapping[int, bool],
    admin_user: Actor,
    *,
    on_duplicate: Literal["refuse", "merge"] = "refuse",
) -> list[ApprovalResult]:
    """Persist the approved candidates (admin only) with provenance; rejected ones are dropped.

    `decisions` is one bool per candidate, or {index: bool} (missing indexes = rejected).
    Duplicates of stored entries are refused (or merged) and reported, never saved twice.
    """
    require_admin(admin_user)
    if isinstance(decisions, Mapping):
        bad = [i for i in decisions if not 0 <= i < len(candidates)]
        if bad:
            raise KnowledgeError(f"no candidate number {bad[0]}")
        flags = [bool(decisions.get(i, False)) for i in range(len(candidates))]
    else:
        if len(decisions) != len(candidates):
            raise KnowledgeError(f"{len(decisions)} decisions for {len(candidates)} candidates")
        flags = [bool(d) for d in decisions]
    results: list[ApprovalResult] = []
    for cand, ok in zip(candidates, flags, strict=True):
        if not ok:
            results.append(ApprovalResult(cand, False))
            continue
        try:
            if cand.kind == "strategy":
                res = save_strategy(
                    session,
                    cand.text,
                    cand.category,
                    cand.source,
                    admin_user,
                    on_duplicate=on_duplicate,
                )
            else:
                res = save_mental_model(
                    session,
                    cand.title or "",
                    cand.text,
                    cand.category,
                    cand.source,
                    admin_user,
                    on_duplicate=on_duplicate,
                )
        except KnowledgeError as err:
            results.append(ApprovalResult(cand, True, None, str(err)))
            continue
        results.append(ApprovalResult(cand, True, res))
    return results


@dataclass
class ApprovalSummary:
    saved: int = 0
    merged: int = 0
    duplicates: int = 0
    rejected: int = 0
    invalid: int = 0
    refs: list[str] = field(default_factory=list)


def summarize(results: Sequence[ApprovalResult]) -> ApprovalSummary:
    s = ApprovalSummary()
    for r in results:
        st = r.status
        if st == "saved":
            s.saved += 1
        elif st == "merged":
            s.merged += 1
        elif st == "duplicate":
            s.duplicates += 1
        elif st == "invalid":
            s.invalid += 1
        else:
            s.rejected += 1
        if r.result and st in ("saved", "merged"):
            s.refs.append(r.result.entry.ref)
    return s
