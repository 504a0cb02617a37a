"""What unhappy and happy customers write about: comments to terms, terms ranked by log-odds.

Pure functions: no Flask, no database (``comment_terms`` stores and reads the token lists).

**Terms.** A comment is cut into words: Chinese with jieba (a maintained segmenter), given a user
dictionary of the site's own words (suggestion categories, channel names and the setting
``THEME_WORDS``) so that they stay whole; English and other Latin text by words, lower-cased.
Stop words (``stopwords``) and tokens without a letter or a Chinese character (numbers,
punctuation, emoji) are dropped; a response's comments count as one document, and each term
once per document, so that the count of a term is the number of comments that hold it (one
customer repeating a word ten times does not outweigh ten customers).

**Sides.** Unhappy: CSAT 1–2; happy: CSAT 5. A survey without a CSAT question uses NPS:
detractors (0–6) and promoters (9–10).

**Ranking: the weighted log-odds ratio with an informative Dirichlet prior** (Monroe, Colaresi
and Quinn 2008, "Fightin' Words", section 3.5). For term w, side i (one side's comments) against
j (all the other comments of the slice), with counts y and totals n = Σ y_i, m = Σ y_j:

    δ̂ = log((y_i+α_w) / (n+α0−y_i−α_w)) − log((y_j+α_w) / (m+α0−y_j−α_w))
    var(δ̂) ≈ 1/(y_i+α_w) + 1/(y_j+α_w),    z = δ̂ / √var

The prior is the slice's own term counts, scaled: α_w = PRIOR_SCALE · (y_i+y_j) for the term,
α0 = Σ α_w. With PRIOR_SCALE 1 the prior weighs as much as the data (the convention of the
authors' replication code and of ConvoKit's FightingWords): a term met a handful of times is
pulled hard toward "no difference", so that z ranks terms by how distinctive they are *and*
how sure that is, and a word both sides use alike scores near zero however common it is.

A term is listed for a side when the side holds it in at least ``MIN_COUNT`` comments and its z
is above zero; each side keeps the ``TOP_N`` highest z.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .cache import Cache
from .stopwords import STOP_WORDS

MIN_COUNT = 3  # comments of the side that hold a term, at least
TOP_N = 15  # terms listed per side
PRIOR_SCALE = 1.0  # α_w = PRIOR_SCALE x the term's count in all the slice's comments
MAX_CHARS = 10_000  # of one response's comments: the longest a textarea may allow
SIDES = ("unhappy", "happy")
SEGMENTER_VERSION = "jieba-0.42.1/1"  # part of the stamp: a change re-segments every comment

_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")  # CJK ideographs only
_LATIN_WORD = re.compile(r"[a-z][a-z'\-]*[a-z]|[a-z]")
_UNWANTED = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


@dataclass(frozen=True)
class Term:
    """A term of one side: in how many of its comments, and how distinctive (z)."""

    term: str
    count: int
    z: float

    def to_dict(self) -> dict:
        return {"term": self.term, "count": self.count, "z": round(self.z, 2)}


# --- the side of a response -------------------------------------------------------------------


def side_of(csat: int | None, nps: int | None, uses_csat: bool) -> str | None:
    """ "unhappy", "happy" or None (neither) for a response's scores."""
    if uses_csat:
        if csat is None:
            return None
        return "unhappy" if csat <= 2 else "happy" if csat == 5 else None
    if nps is None:
        return None
    return "unhappy" if nps <= 6 else "happy" if nps >= 9 else None


# --- segmentation ------------------------------------------------------------------------------


def user_words(*groups: Iterable[str | None]) -> tuple[str, ...]:
    """The user dictionary: every non-empty word of the groups (category and channel names,
    the THEME_WORDS setting), cleaned, once each, sorted (so that it can key a cache)."""
    words = set()
    for group in groups:
        for word in group:
            cleaned = clean(word or "").strip()
            if cleaned and not any(ch.isspace() for ch in cleaned):
                words.add(cleaned)
    return tuple(sorted(words))


def theme_words_setting(value: str) -> tuple[str, ...]:
    """The THEME_WORDS setting (comma-separated; ASCII or Chinese commas) as words."""
    return tuple(w.strip() for w in re.split(r"[,\uff0c]", value or "") if w.strip())


def dictionary_stamp(words: Sequence[str]) -> str:
    """A short hash of what segmentation depends on: the user words, the stop words and the
    segmenter's version. Cached token lists with another stamp are made again."""
    text = "\n".join([SEGMENTER_VERSION, *words, "--", *sorted(STOP_WORDS)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_SEGMENTERS: Cache[tuple[str, ...], object] = Cache(4)
_JIEBA_LOCK = threading.Lock()


def segmenter(words: tuple[str, ...]):
    """A jieba tokenizer with ``words`` added, made once per process and dictionary (loading
    jieba's dictionary takes about a second)."""
    return _SEGMENTERS.get_or_make(words, lambda: _make_segmenter(words))


def _make_segmenter(words: tuple[str, ...]):
    import jieba  # imported here: the survey's workers never load it

    with _JIEBA_LOCK:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for word in words:
            # a high frequency, so that the word stays whole against the dictionary's splits
            tokenizer.add_word(word.lower(), freq=100_000)
            if word.lower() != word:
                tokenizer.add_word(word, freq=100_000)
    return tokenizer


def clean(text: str) -> str:
    """NFKC (full-width letters to ASCII), control and invisible characters to spaces."""
    return _UNWANTED.sub(" ", unicodedata.normalize("NFKC", text))


def terms_of(text: str, tokenizer) -> list[str]:
    """A comment's terms, each once, in order of first use: Chinese words by jieba, Latin words
    lower-cased, stop words and tokens without letters dropped."""
    seen: dict[str, None] = {}
    for token in tokenizer.cut(clean(text[:MAX_CHARS]).lower(), HMM=True):
        token = token.strip()
        if not token:
            continue
        if _HAN.match(token):
            candidates = [token]
        else:
            candidates = _LATIN_WORD.findall(token)
        for word in candidates:
            if word not in STOP_WORDS and (len(word) > 1 or _HAN.match(word)):
                seen.setdefault(word, None)
    return list(seen)


def join_terms(terms: Sequence[str]) -> str:
    """Terms as stored: space-separated, with a space at each end (so " term " finds one)."""
    return f" {' '.join(terms)} " if terms else " "


def split_terms(stored: str) -> list[str]:
    return stored.split()


# --- the log-odds ratio --------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    term: str
    count: int  # y_i: comments of the side that hold the term
    delta: float
    variance: float

    @property
    def z(self) -> float:
        return self.delta / math.sqrt(self.variance)


def log_odds(side: Counter, rest: Counter, prior_scale: float = PRIOR_SCALE) -> list[Score]:
    """Every term of ``side`` scored against ``rest`` (Monroe et al. 2008, eq. 16 and 20), the
    prior α_w = prior_scale · (side[w] + rest[w])."""
    n, m = sum(side.values()), sum(rest.values())
    alpha0 = prior_scale * (n + m)
    scores = []
    for term, y_i in side.items():
        y_j = rest.get(term, 0)
        alpha = prior_scale * (y_i + y_j)
        others_i, others_j = n + alpha0 - y_i - alpha, m + alpha0 - y_j - alpha
        if others_i <= 0 or others_j <= 0:  # the only term there is: nothing to compare with
            continue
        delta = math.log((y_i + alpha) / others_i) - math.log((y_j + alpha) / others_j)
        scores.append(Score(term, y_i, delta, 1 / (y_i + alpha) + 1 / (y_j + alpha)))
    return scores


def distinctive(
    side: Counter, rest: Counter, min_count: int = MIN_COUNT, top: int = TOP_N
) -> list[Term]:
    """The side's terms held by at least ``min_count`` of its comments, with z above zero,
    highest z first (ties: more comments, then the term), at most ``top``."""
    scores = [s for s in log_odds(side, rest) if s.count >= min_count and s.z > 0]
    scores.sort(key=lambda s: (-s.z, -s.count, s.term))
    return [Term(s.term, s.count, s.z) for s in scores[:top]]


def themes(
    documents: Iterable[tuple[str | None, Sequence[str]]],
    min_count: int = MIN_COUNT,
    top: int = TOP_N,
) -> dict[str, list[Term]]:
    """{"unhappy": [...], "happy": [...]} from (side, terms) per comment: each side's counts
    against those of all the other comments."""
    everything: Counter = Counter()
    by_side = {side: Counter() for side in SIDES}
    for side, terms in documents:
        everything.update(terms)
        if side in by_side:
            by_side[side].update(terms)
    return {
        side: distinctive(counts, everything - counts, min_count, top)
        for side, counts in by_side.items()
    }
