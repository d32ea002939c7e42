"""MinHash signatures of word shingles, vectorised with numpy, and LSH band keys.

Texts are normalised for syndication first (wire-tag datelines, agency sign-offs and footers,
"Related:" lines, quote styles and spacing), then cut into word 5-shingles hashed to 32 bits.
Each of ``NUM_PERM`` multiply-shift hash functions ``((a * x + b) mod 2**64) >> 32`` (a universal
family; ``a`` odd) keeps its minimum over the shingles; the signature keeps 16 bits of each
(b-bit MinHash: 252 bytes a text, chance agreement 1/65,536 per slot). Bands of ``ROWS`` rows
give the LSH keys.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NUM_PERM = 126
ROWS = 3
BANDS = NUM_PERM // ROWS
SHINGLE = 5
_rng = np.random.default_rng(20261127)
_A = _rng.integers(0, np.iinfo(np.uint64).max, NUM_PERM, dtype=np.uint64, endpoint=True) | np.uint64(1)
_B = _rng.integers(0, np.iinfo(np.uint64).max, NUM_PERM, dtype=np.uint64, endpoint=True)
_SHIFT = np.uint64(32)
_MASK32 = np.uint64(0xFFFFFFFF)

_TOKEN = re.compile(r"\w+")
# "WASHINGTON (Reuters) - ", "LONDON, March 3 (AP) — ", "(AFP) -", "By Jane Doe, Reuters"
_WIRE_PREFIX = re.compile(
    r"^\s*(?:[A-Z][A-Za-z .,'-]{1,60}?)?\s*\((?:Reuters|AP|AFP|Bloomberg|dpa|Xinhua|UPI|"
    r"Kyodo|Yonhap|ANSA|EFE|IANS|PTI|CNA)\)\s*[-—–:]+\s*",
)
_WIRE_TAG = re.compile(
    r"^\s*[A-Z][A-Z .,'-]{2,40}(?:,\s*[A-Z][a-z]{2,9}\.? \d{1,2})?\s*[-—–]+\s*"
)
_FOOTER_LINE = re.compile(
    r"^\s*(?:\(?(?:reporting|writing|editing|additional reporting|compiled) by\b.*"
    r"|©.*|copyright\b.*|all rights reserved.*|\(?this story has been corrected.*"
    r"|related\s*:.*|read more\s*:.*|see also\s*:.*|follow us on .*|sign up for .*)$",
    re.IGNORECASE | re.MULTILINE,
)


def normalise(text: str) -> list[str]:
    """Word tokens of ``text`` without syndication wrappers, case-folded."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _WIRE_PREFIX.sub("", text, count=1)
    text = _WIRE_TAG.sub("", text, count=1)
    text = _FOOTER_LINE.sub("", text)
    return _TOKEN.findall(text.casefold())


def shingle_hashes(tokens: list[str]) -> npt.NDArray[np.uint64]:
    """Distinct 32-bit hashes of the word ``SHINGLE``-grams (the whole text when shorter)."""
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.fromiter((zlib.crc32(t.encode()) for t in tokens), dtype=np.uint64,
                         count=len(tokens))
    if len(tokens) < SHINGLE:
        combined = np.array([int(np.bitwise_xor.reduce(hashes * np.arange(
            1, len(tokens) + 1, dtype=np.uint64)))], dtype=np.uint64)
    else:
        n = len(tokens) - SHINGLE + 1
        combined = np.zeros(n, dtype=np.uint64)
        for k in range(SHINGLE):  # polynomial combination, wrapping in uint64
            combined = combined * np.uint64(1_000_003) + hashes[k:k + n]
    return np.unique(combined & _MASK32)


@dataclass(frozen=True, slots=True)
class Sketch:
    """A text's MinHash signature and its number of distinct shingles."""

    signature: npt.NDArray[np.uint16]
    size: int

    def to_bytes(self) -> bytes:
        """The signature as bytes (for the stored index)."""
        return self.signature.astype("<u2").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, size: int) -> Sketch:
        """Inverse of :meth:`to_bytes`."""
        return cls(np.frombuffer(data, dtype="<u2").astype(np.uint16), size)

    def band_keys(self) -> list[bytes]:
        """One hashable key per LSH band (band index included)."""
        sig = self.signature
        return [bytes([band]) + sig[band * ROWS:(band + 1) * ROWS].tobytes()
                for band in range(BANDS)]


def sketch(text: str) -> Sketch:
    """The MinHash sketch of ``text`` (an empty signature for a text without words)."""
    shingles = shingle_hashes(normalise(text))
    if shingles.size == 0:
        return Sketch(np.zeros(0, dtype=np.uint16), 0)
    with np.errstate(over="ignore"):
        products = (np.outer(_A, shingles) + _B[:, None]) >> _SHIFT  # wraps mod 2**64
    signature = (products.min(axis=1) & np.uint64(0xFFFF)).astype(np.uint16)
    return Sketch(signature, int(shingles.size))


def similarity(a: Sketch, b: Sketch) -> tuple[float, float]:
    """Estimated (Jaccard, containment of the smaller in the larger) of two sketches."""
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0
    jaccard = float(np.count_nonzero(a.signature == b.signature)) / NUM_PERM
    shared = jaccard * (a.size + b.size) / (1.0 + jaccard)
    return jaccard, min(1.0, shared / min(a.size, b.size))
