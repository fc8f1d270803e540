"""What a deal question said that the parser did not use, so the answer can say so.

Rule: never silently drop a constraint. The parser blanks every span a recognizer read (a
filter, a sort, paging, a subject, a publisher, ...); what is left, minus words that carry no
constraint (articles, "show me", "deals", "please", ...) and words that ended up in a word
filter, is the remainder. It is computed, not special-cased: a phrasing no rule knows ("with
free shipping", "published after 2015") shows up here without anyone listing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words that ask, point or fill and never constrain a search. Adding a word here says "this
# word never narrows a search" (a word that does, such as "hardcover", must not be here).
_FILLER_WORDS = """
a an the and or but nor of in on at to for with by from into onto about as than then so if
while when where which who whom whose what whats what's that that's those these this there
there's here it its it's they them their theirs we us our you your i i'm im me my mine is are
was were be been being am do does did doing done have has had having can could would should
will shall may might must need needs want wants wanted wanna gotta got get gets getting give
gimme lemme let let's show showing shown find finding list listing search searching look
looking see seeing pull bring display tell recommend suggest suggestions recommendations deal
deals book books item items one ones copy copies title titles listings product products stuff
things thing anything something everything results result options option picks pick buys buy
purchases purchase inventory asin asins opportunities opportunity flips flip leads buying sell
sells selling sold flipping flipped source sourcing resell reselling grab grabbing picking up
worth worthwhile good great best better nice decent solid top cool any some all every each
other others more most only just also too even still really very quite please pls plz thanks
thank thx ok okay hey hi hello yo now today currently right rn available out like kind type
types lot lots bunch few several many much how why whether maybe perhaps possibly actually
probably basically used first price prices priced cost costs money order ordered sorted
sorting mentor mentors advice help per apiece piece seller sellers thats whats wheres
theres heres range going make making earn earning clear clears
"""
FILLER = frozenset(_FILLER_WORDS.split())
# a preposition that belongs to the phrase after it ("from Pearson", "with free shipping")
_LEADS = frozenset(
    [
        "from",
        "by",
        "in",
        "with",
        "without",
        "under",
        "over",
        "after",
        "before",
        "about",
        "for",
        "on",
        "at",
        "since",
        "during",
    ]
)
# blanked spans (two or more blanks) and punctuation end a phrase
_CHUNKS = re.compile(r"\s{2,}|[,;:!?()\[\]]|\.(?!\d)")
_TOKEN = re.compile(r"[a-z0-9$#@][a-z0-9$%+.&'/#@-]*|[^\sa-z0-9]")

MAX_PHRASES = 3
MAX_PHRASE_CHARS = 60


def _content(token: str) -> bool:
    return token not in FILLER and any(c.isalnum() for c in token)


def unused_phrases(rest: str, used: Iterable[str], raw: str) -> list[str]:
    """The phrases of `rest` (the parser's normalized text with every read span blanked)
    that say something no rule used, quoted as the user typed them when they can be found in
    `raw`. `used`: words a word filter took (text, author, publisher, category)."""
    taken = {w for phrase in used for w in re.findall(r"[a-z0-9]+", phrase.lower())}
    out: list[str] = []
    for chunk in _CHUNKS.split(rest):
        tokens = _TOKEN.findall(chunk)
        content = [
            i
            for i, t in enumerate(tokens)
            if _content(t) and not (set(re.findall(r"[a-z0-9]+", t)) <= taken)
        ]
        if not content:
            continue
        start, end = content[0], content[-1] + 1
        if tokens[end - 1][-1].isdigit() and end < len(tokens) and tokens[end].isalpha():
            end += 1  # a number takes its unit along ("fewer than 3 sellers")
        if start > 0 and tokens[start - 1] in _LEADS:
            start -= 1
        phrase = " ".join(tokens[start:end])[:MAX_PHRASE_CHARS].strip()
        out.append(_as_typed(phrase, raw))
        if len(out) == MAX_PHRASES:
            break
    return out


def _as_typed(phrase: str, raw: str) -> str:
    """`phrase` with the user's own capitals, when it appears in the message as it is."""
    at = raw.lower().find(phrase)
    return raw[at : at + len(phrase)] if at >= 0 else phrase


UNUSED_PREFIX = "I did not use: "


def unused_note(phrases: list[str]) -> str:
    """The one line an answer adds when it ignored part of the question."""
    return UNUSED_PREFIX + ", ".join(f"'{p}'" for p in phrases)
