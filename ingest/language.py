"""The language of an article: what the page or feed declares, checked against the text.

Detection is py3langid (a maintained fork of langid.py; its model ships inside the package, so
nothing is downloaded at run time, and it ranks a 5 KB text in well under a millisecond),
restricted to the languages with ISO 639-1 codes so that close variants (Wu, Cantonese
written as standard Chinese) do not split a text's probability. It was chosen over
lingua-language-detector, which is more accurate on very short texts but loads hundreds of MB
of models per process; an article body is long enough for py3langid.

The rule (``decide``): a language the page declares (``<html lang>``, ``og:locale``) is kept
unless the text makes it unlikely (the detector gives it under 5 %); then the feed's declared
language, on the same terms (a feed's default is English, so this matters); otherwise the
detected language, however sure the detector is (it is still likelier than the declarations). ``confidence`` is the detector's probability of the language recorded, so
a kept declaration the text barely supports shows as such. Texts with fewer than 20 letters are
not judged: the declaration stands, with no confidence.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np

MIN_LETTERS = 20
KEEP_DECLARED = 0.05  # a declared language the text gives this much probability stays
# the start of the text is enough (1,500 characters gave the same language as 4,000 on the
# 1,382 texts of the shared sets, the scale pages and bench/langsets, at 40 % of the cost)
SAMPLE_CHARS = 1500
ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "nb": "no", "nn": "no"}

# what decides a row's language and its confidence (part of the config hash rows carry)
DETECTOR = f"py3langid/{version('py3langid')}+sample/{SAMPLE_CHARS}+keep/{KEEP_DECLARED}"

_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Language:
    """The language recorded for a text, and the detector's probability of it (None when the
    text was too short to judge)."""

    code: str
    confidence: float | None = None


def normalise(code: str | None) -> str:
    """An ISO 639-1 code from a declaration ("en-US", "zh_Hant", "IW" -> "en", "zh", "he")."""
    base = (code or "").strip().replace("_", "-").split("-")[0].lower()
    base = ALIASES.get(base, base)
    return base if len(base) == 2 and base.isalpha() else ""


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages([code for code in ident.nb_classes if len(code) == 2])
    # the restricted table comes out of set_languages in column order and float16: scoring
    # gathers a row per feature seen (about 700 for a 1,500-character sample) and casts them to
    # float32 for the product. Rows contiguous and already float32 (46 MB once per process)
    # give the same scores at 60 % of the cost of a ranking.
    ident.nb_ptc = np.ascontiguousarray(ident.nb_ptc, dtype=np.float32)
    return ident


def rank(text: str) -> list[tuple[str, float]] | None:
    """Languages of ``text`` with their probabilities, most likely first; None when the text
    has too few letters to judge."""
    sample = text[:SAMPLE_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS:
        return None
    with _lock:  # the identifier keeps no state per call, but loads once
        ident = _identifier()
    return [(str(code), float(p)) for code, p in ident.rank(sample)]


def decide(text: str, page: str | None = None, feed: str | None = None) -> Language:
    """The language to record for an article (see the module docstring)."""
    declared = [code for code in (normalise(page), normalise(feed)) if code]
    ranking = rank(text or "")
    if ranking is None:
        return Language(declared[0] if declared else "")
    probability = dict(ranking)
    top, sure = ranking[0]
    for code in declared:
        if probability.get(code, 0.0) >= KEEP_DECLARED:
            return Language(code, round(probability.get(code, 0.0), 4))
    return Language(top, round(sure, 4))
