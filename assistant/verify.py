"""Checking what a model cites: find each quote in the real source text and cite that text, never the quote.

A quote is located exactly, then after normalizing case, white space, accents and quote marks, then fuzzily
(a few characters differ); whichever way it is found, the citation is the exact source span it matched.
A quote that is not in the source is never accepted.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from assistant.ingest.splitter import sentence_spans
from assistant.types import Citation, ScoredPassage

# Typographic variants a model (or a keyboard) swaps freely.
_FOLD = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′ʼ`´", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quote is in the source: `text[start:end]`, found by `match` with similarity `score` (0..100)."""

    start: int
    end: int
    match: str
    score: float


@lru_cache(maxsize=64)
def normalize(text: str) -> tuple[str, tuple[int, ...]]:
    """`text` folded for comparison, and for each folded character the index of the source character it came from.

    Case, accents and quote marks/dashes are folded; runs of white space become one space; the ends are trimmed.
    """
    out: list[str] = []
    index: list[int] = []
    space = True  # drops leading white space
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                index.append(i)
            space = True
            continue
        space = False
        for c in unicodedata.normalize("NFKD", ch.translate(_FOLD)).casefold():
            if not unicodedata.combining(c):
                out.append(c)
                index.append(i)
    if out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), tuple(index)


def locate_quote(
    quote: str,
    text: str,
    window: tuple[int, int] | None = None,
    *,
    min_score: float = 90.0,
    min_chars: int = 8,
) -> QuoteMatch | None:
    """The span of `text` that `quote` was copied from, or None if no span matches well enough.

    Each way of matching is tried in `window` (the cited passage) first, then in the whole `text`.
    """
    quote = quote.strip()
    folded_quote = normalize(quote)[0]
    if len(folded_quote) < min_chars:
        return None
    regions = [(0, len(text))] if window is None or window == (0, len(text)) else [window, (0, len(text))]
    for find in (_exact, _normalized, _fuzzy):
        for region in regions:
            found = find(quote, text, region, min_score)
            if found is not None:
                return found
    return None


def _exact(quote: str, text: str, region: tuple[int, int], min_score: float) -> QuoteMatch | None:
    i = text.find(quote, *region)
    return QuoteMatch(i, i + len(quote), "exact", 100.0) if i >= 0 else None


def _folded_region(text: str, region: tuple[int, int]) -> tuple[str, tuple[int, ...], int]:
    """The folded text of `region`, the folded-to-source index map, and where the region starts in the fold."""
    folded, index = normalize(text)
    a, b = bisect.bisect_left(index, region[0]), bisect.bisect_left(index, region[1])
    return folded[a:b], index, a


def _span(index: tuple[int, ...], offset: int, i: int, j: int) -> tuple[int, int]:
    """Source span of the folded characters `[i, j)` of a region starting at folded `offset`."""
    return index[offset + i], index[offset + j - 1] + 1


def _normalized(quote: str, text: str, region: tuple[int, int], min_score: float) -> QuoteMatch | None:
    folded_quote = normalize(quote)[0]
    folded, index, offset = _folded_region(text, region)
    i = folded.find(folded_quote)
    if i < 0:
        return None
    return QuoteMatch(*_span(index, offset, i, i + len(folded_quote)), "normalized", 100.0)


def _fuzzy(quote: str, text: str, region: tuple[int, int], min_score: float) -> QuoteMatch | None:
    folded_quote = normalize(quote)[0]
    folded, index, offset = _folded_region(text, region)
    if not folded:
        return None
    if len(folded_quote) >= len(folded):
        rough_start, rough_end = 0, len(folded)  # the quote may span the whole region, and then some
    else:
        rough = fuzz.partial_ratio_alignment(folded_quote, folded, score_cutoff=min_score)
        if rough is None:
            return None
        rough_start, rough_end = rough.dest_start, rough.dest_end
    # The rough window has the quote's length; the real span may be a little longer or shorter
    # (letters inserted or dropped). Pick the best whole-token span near it.
    reach = max(4, len(folded_quote) // 8)
    starts = _boundaries(folded, rough_start - reach, rough_start + reach, start=True) or [rough_start]
    ends = _boundaries(folded, rough_end - reach, rough_end + reach, start=False) or [rough_end]
    best: tuple[float, int, int] | None = None
    span = (0, 0)
    for a in starts:
        for b in ends:
            if b <= a:
                continue
            # Most similar first; then the length nearest the quote's; then the leftmost.
            key = (fuzz.ratio(folded_quote, folded[a:b]), -abs(b - a - len(folded_quote)), -a)
            if best is None or key > best:
                best, span = key, (a, b)
    if best is None or best[0] < min_score:
        return None
    return QuoteMatch(*_span(index, offset, *span), "fuzzy", round(best[0], 2))


def _boundaries(folded: str, lo: int, hi: int, *, start: bool) -> list[int]:
    """Positions in `[lo, hi]` where a span may start (or end) without cutting a word and without a space."""
    out = []
    for p in range(max(lo, 0), min(hi, len(folded)) + 1):
        inner, outer = (p, p - 1) if start else (p - 1, p)
        if not 0 <= inner < len(folded) or folded[inner] == " ":
            continue
        if not 0 <= outer < len(folded) or folded[outer] == " " or folded[outer].isalnum() != folded[inner].isalnum():
            out.append(p)
    return out


# -- generated answers ----------------------------------------------------------------------------

# "[2]", "[1, 3]", "[1][2]", optionally followed by the quoted evidence: [2] "the exact words".
_EVIDENCE = re.compile(
    r"(?P<refs>\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\](?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*)"
    r"(?:\s*[:\-–—]?\s*(?P<quote>[\"“„«][^\"“”„«»]{1,2000}[\"”»]))?"
)
_NUMBER = re.compile(r"\d+")
_QUOTED = re.compile(r"[\"“„«]([^\"“”„«»]{1,2000})[\"”»]")
# Private-use characters stand in for evidence while the answer is cut into sentences.
_SLOT = 0xE000
_AFTER_STOP = re.compile(r"([.!?])\s*([\ue000-\uf8ff]+)")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_ABSTENTION = "the articles do not say"
UNSUPPORTED_MARK = "[unsupported]"


@dataclass
class Claim:
    """One sentence of a generated answer, the passage numbers it cites, and the quotes offered as evidence."""

    text: str
    refs: list[int] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


@dataclass
class Verified:
    """A generated answer after checking: its text with our citation numbers, the citations, what failed."""

    text: str
    citations: list[Citation]
    unsupported: list[str]


def parse_claims(output: str) -> list[Claim]:
    """Cut a model's answer into sentences with their `[n]` markers and quoted evidence."""
    units: list[tuple[list[int], str | None]] = []

    def slot(m: re.Match[str]) -> str:
        units.append(([int(n) for n in _NUMBER.findall(m["refs"])], m["quote"]))
        return f" {chr(_SLOT + len(units) - 1)}"

    # Evidence written after the full stop ("It opened. [1]") belongs before it, with its sentence.
    skeleton = _AFTER_STOP.sub(r" \2\1", _EVIDENCE.sub(slot, output))
    claims: list[Claim] = []
    # Models put list items and paragraphs on lines of their own: a line break ends a sentence too.
    lines = skeleton.splitlines()
    for piece in (line[span.start : span.end] for line in lines for span in sentence_spans(line)):
        found = [ord(c) - _SLOT for c in piece if _SLOT <= ord(c) < _SLOT + len(units)]
        text = "".join(c for c in piece if not _SLOT <= ord(c) < _SLOT + len(units))
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
        refs = [n for i in found for n in units[i][0]]
        quotes = [q[1:-1].strip() for i in found if (q := units[i][1])] + _QUOTED.findall(text)
        if not any(ch.isalpha() for ch in text) and claims:
            # Evidence on its own line belongs to the sentence before it.
            claims[-1].refs += refs
            claims[-1].quotes += quotes
            continue
        if text or refs:
            claims.append(Claim(text or (quotes[0] if quotes else ""), refs, quotes))
    # List numbering ("1.") and the like carry no claim.
    return [c for c in claims if any(ch.isalpha() for ch in c.text)]


def is_abstention(output: str) -> bool:
    """Whether the model said, as it was asked to when the passages do not answer, "The articles do not say"."""
    folded = normalize(output)[0]
    return folded.startswith(_ABSTENTION) and not _EVIDENCE.search(folded)


def verify_answer(
    output: str,
    passages: Sequence[ScoredPassage],
    document_text: Callable[[str], str],
    *,
    min_score: float = 90.0,
    min_chars: int = 8,
) -> Verified:
    """Turn a model's answer into text whose every citation is an exact, located span of a source.

    A marker `[n]` must name one of the `len(passages)` passages the model was shown, and the claim's quotes
    (or the claim itself) must be found in that passage's document. A claim without any marker is cited only
    if it copies a passage closely enough to be located in it. Claims left without a citation are marked
    unsupported; out-of-range markers are dropped.
    """
    citations: dict[tuple[str, int, int], Citation] = {}

    def cite(claim: Claim, number: int) -> tuple[int, str] | None:
        """The citation number for `claim` in passage `number`, and the source text of what was located."""
        p = passages[number - 1].passage
        text = document_text(p.doc_id)
        for quote in [*claim.quotes, claim.text]:
            found = locate_quote(quote, text, (p.start, p.end), min_score=min_score, min_chars=min_chars)
            if found is not None:
                key = (p.doc_id, found.start, found.end)
                if key not in citations:
                    citations[key] = Citation(
                        len(citations) + 1,
                        p.source,
                        p.doc_id,
                        found.start,
                        found.end,
                        text[found.start : found.end],
                        verified=True,
                        match=found.match,
                    )
                return citations[key].n, (citations[key].text if quote is claim.text else claim.text)
        return None

    parts: list[str] = []
    unsupported: list[str] = []
    for claim in parse_claims(output):
        valid = [n for n in dict.fromkeys(claim.refs) if 1 <= n <= len(passages)]
        found = [c for n in valid if (c := cite(claim, n)) is not None]
        if not claim.refs:
            # No marker at all: the claim is cited only if it copies a passage (the first one holding it).
            found = next(([c] for n in range(1, len(passages) + 1) if (c := cite(claim, n)) is not None), [])
        if found:
            # A claim that was itself located (not through a quote) is shown as the source has it: a model that
            # copies a sentence but swaps a name must not have its version shown as the cited one.
            part = found[0][1] + " " + "".join(f"[{n}]" for n in dict.fromkeys(n for n, _ in found))
        else:
            part = f"{claim.text} {UNSUPPORTED_MARK}"
        if part in parts:
            continue  # small models repeat themselves
        if not found:
            unsupported.append(claim.text)
        parts.append(part)
    return Verified(" ".join(parts), list(citations.values()), unsupported)
