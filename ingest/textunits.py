"""How much text there is, in any script.

Space-separated scripts (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Hangul, ...) are
counted in words. Scripts written without spaces between words are counted in characters and
turned into word equivalents, so one threshold ("40 words") means about the same amount of
text everywhere:

============================================  ==========================  =====================
script                                        unit                        40 words equal
============================================  ==========================  =====================
Han, Hiragana, Katakana (zh, ja)              2 characters per word       80 characters
Thai, Lao, Khmer, Myanmar                     4 characters per word       160 characters
everything else (Hangul included: Korean      words (runs of letters and  40 words
separates its words with spaces)              digits)
============================================  ==========================  =====================

(Chinese words average about 1.7 characters, Japanese about 2 once kana are counted; Thai
words about 4 to 5 characters: the ratios err on the side of accepting short pieces.)
"""

from __future__ import annotations

import re

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_SEA = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
CJK_CHARS_PER_WORD = 2
SEA_CHARS_PER_WORD = 4

UNSPACED = _CJK + _SEA  # the scripts above written without spaces, as a regex class body

_SPACED_WORD = re.compile(rf"[^\W{_CJK}{_SEA}]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_SEA_CHAR = re.compile(rf"[{_SEA}]")
_UNSPACED = re.compile(rf"[{_CJK}{_SEA}]")


def words(text: str) -> float:
    """Word equivalents in ``text``: words of space-separated scripts plus the characters of
    unspaced scripts at their ratio."""
    count = float(len(_SPACED_WORD.findall(text)))
    if _UNSPACED.search(text):
        count += len(_CJK_CHAR.findall(text)) / CJK_CHARS_PER_WORD
        count += len(_SEA_CHAR.findall(text)) / SEA_CHARS_PER_WORD
    return count


def describe(text: str) -> str:
    """``words(text)`` for a message: "35 words" or "35 words (70 CJK characters)"."""
    n = words(text)
    cjk = len(_CJK_CHAR.findall(text))
    sea = len(_SEA_CHAR.findall(text))
    parts = [f"{cjk} CJK characters"] if cjk else []
    parts += [f"{sea} Thai/Lao/Khmer/Myanmar characters"] if sea else []
    return f"{n:.0f} words" + (f" ({', '.join(parts)})" if parts else "")
