"""MinHash signatures of word shingles, vectorised with numpy, and LSH band keys.

Texts are normalised for syndication first (wire-tag datelines, agency sign-offs and footers,
"Related:" lines, quote styles and spacing; the datelines and footers of Chinese, Japanese and
Korean agencies too), then cut into 5-shingles of tokens: words where words are separated by
spaces, single characters in scripts written without spaces (Han, kana, Thai, Lao, Khmer,
Myanmar: ``ingest.textunits.UNSPACED``), so a Chinese or Japanese text gets character
5-grams instead of a few clause-long "words", and small edits change only the shingles
around them. Texts without those scripts get exactly the word shingles they always had. Each shingle gets a
64-bit hash from a polynomial over the bytes of the joined words (prefix sums, so one numpy pass
hashes every shingle), finished with the splitmix64 mixer.

The signature is one-permutation MinHash (Li, Owen and Zhang 2012) with optimal densification
(Shrivastava 2017): the top 7 bits of a shingle's hash choose one of ``NUM_PERM`` = 128 bins and
each bin keeps its smallest hash; an empty bin (a text with few shingles) copies the bin that a
fixed per-bin probe sequence reaches first. Two texts agree in a bin with probability equal to
their Jaccard similarity, as with 128 independent permutations, but hashing costs one pass
instead of 128. Each bin keeps 8 bits of its minimum (b-bit MinHash: 128 bytes a text; chance
agreement 1/256, corrected for in :func:`similarity`). LSH bands are ``ROWS`` = 2 bins, so a band
key is 16 bits read straight from the signature.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ingest.textunits import UNSPACED

NUM_PERM = 128
ROWS = 2
BANDS = 16  # bands use bins 0..31; 16 bands of 2 rows see a pair at Jaccard 0.5 99 % of the time
SHINGLE = 5
SHINGLE_UNSPACED = 3
CHANCE = 1.0 / 256  # two different 8-bit minima agree by chance this often
_BIN_SHIFT = np.uint64(64 - 7)
_VALUE_MASK = np.uint64((1 << 57) - 1)
_P = 0x100000001B3  # odd: invertible modulo 2**64
_P_INV = pow(_P, -1, 1 << 64)
_PROBE = np.random.default_rng(20261127).permuted(
    np.tile(np.arange(NUM_PERM, dtype=np.int64), (NUM_PERM, 1)), axis=1)
_powers: dict[str, npt.NDArray[np.uint64]] = {}

_TOKEN = re.compile(rf"[{UNSPACED}]|[^\W{UNSPACED}]+")
_UNSPACED_CHAR = re.compile(rf"[{UNSPACED}]")
# "新华社北京3月31日电（记者 张三）", "中新社上海4月1日电", "中央社記者王小明台北31日電",
# "【ワシントン共同】", "(서울=연합뉴스) 홍길동 기자 = "
_CJK_DATELINE = re.compile(
    r"^\s*(?:(?:新华社|新華社|中新社|中新网|中新網|人民网|人民網|央视网|中央社)[^。\n]{0,30}?[电電]"
    r"(?:\s*[（(]记者[^）)]{1,30}[）)])?"
    r"|【[^】\n]{1,24}】"
    r"|[（(][^）)\n]{1,24}=\s*(?:연합뉴스|뉴시스|뉴스1)[）)](?:\s*[가-힣]{2,4}\s*(?:기자|특파원)\s*=)?)\s*",
)
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
    r"|related\s*:.*|read more\s*:.*|see also\s*:.*|follow us on .*|sign up for .*"
    r"|[（(]完[）)]|(?:责任编辑|責任編輯|编辑|編輯)\s*[:：].*|.*무단\s*전재.*|.*재배포\s*금지.*"
    r"|[（(](?:共同|時事|时事|ロイター|了|AFP|新华社|新華社)[）)]"
    r"|(?:相关阅读|相關閱讀|延伸阅读|延伸閱讀|推荐阅读|推薦閱讀|関連記事|関連ニュース|관련\s*기사)"
    r"\s*[:：].*"
    r"|【(?:编辑|編輯|责编|責編)\s*[:：][^】]*】|[（(](?:记者|記者)[^）)\n]{1,20}[）)]\s*(?:[（(]完[）)])?)$",
    re.IGNORECASE | re.MULTILINE,
)


def normalise(text: str) -> list[str]:
    """Tokens of ``text`` without syndication wrappers, case-folded: words, and single
    characters of scripts written without spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _WIRE_PREFIX.sub("", text, count=1)
    text = _WIRE_TAG.sub("", text, count=1)
    text = _CJK_DATELINE.sub("", text, count=1)
    text = _FOOTER_LINE.sub("", text)
    return _TOKEN.findall(text.casefold())


def _power_tables(n: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """``P**i`` and ``P**-i`` modulo 2**64 for ``i < n`` (cached, grown by doubling)."""
    have = _powers.get("pow")
    if have is None or have.size < n:
        size = max(4096, 1 << (n - 1).bit_length())
        _powers["pow"] = np.cumprod(np.r_[np.uint64(1), np.full(size - 1, _P, np.uint64)],
                                    dtype=np.uint64)
        _powers["inv"] = np.cumprod(np.r_[np.uint64(1), np.full(size - 1, _P_INV, np.uint64)],
                                    dtype=np.uint64)
    return _powers["pow"], _powers["inv"]


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, element-wise (wrapping uint64 arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_size(tokens: list[str]) -> int:
    """Tokens per shingle: ``SHINGLE`` words, or ``SHINGLE_UNSPACED`` characters for a text
    mostly in scripts written without spaces (a character says less than a word, and a light
    edit of a short Chinese or Japanese text breaks fewer 3-grams than 5-grams: on the
    bench/dedupe.py sets, 3 keeps every variant where 5 lost up to 6 %, at the same precision)."""
    joined = "".join(tokens)
    if not _UNSPACED_CHAR.search(joined):  # most texts: one scan, no loop over the tokens
        return SHINGLE
    unspaced = len(_UNSPACED_CHAR.findall(joined))  # each such character is a token of its own
    return SHINGLE_UNSPACED if unspaced * 2 > len(tokens) else SHINGLE


def shingle_hashes(tokens: list[str]) -> npt.NDArray[np.uint64]:
    """Sorted distinct 64-bit hashes of the token shingles (``shingle_size``; the whole text
    when shorter)."""
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    data = np.frombuffer(" ".join(tokens).encode("utf-8"), dtype=np.uint8)
    pw, inv = _power_tables(data.size + 1)
    prefix = np.zeros(data.size + 1, dtype=np.uint64)
    np.cumsum((data.astype(np.uint64) + np.uint64(1)) * pw[:data.size], out=prefix[1:])
    spaces = np.flatnonzero(data == 32)
    starts = np.r_[0, spaces + 1]
    ends = np.r_[spaces, data.size]
    size = shingle_size(tokens)
    if starts.size < size:
        first, last = starts[:1], ends[-1:]
    else:
        first, last = starts[:starts.size - size + 1], ends[size - 1:]
    return np.unique(_mix((prefix[last] - prefix[first]) * inv[first]))


@dataclass(frozen=True, slots=True)
class Sketch:
    """A text's 8-bit MinHash signature (``NUM_PERM`` bins) and its number of distinct shingles."""

    signature: npt.NDArray[np.uint8]
    size: int

    def to_bytes(self) -> bytes:
        """The signature as bytes (for the stored index)."""
        return self.signature.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, size: int) -> Sketch:
        """Inverse of :meth:`to_bytes`."""
        if len(data) != NUM_PERM:
            raise ValueError(f"a signature has {NUM_PERM} bytes, not {len(data)}")
        return cls(np.frombuffer(data, dtype=np.uint8).copy(), size)

    def band_keys(self) -> npt.NDArray[np.uint16]:
        """One 16-bit LSH key per band (two signature bytes)."""
        keys: npt.NDArray[np.uint16] = band_keys(self.signature[None, :])[0]
        return keys


def band_keys(signatures: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint16]:
    """LSH keys of a matrix of signatures: one uint16 per row and band."""
    pairs = signatures[:, :BANDS * ROWS].astype(np.uint16).reshape(-1, BANDS, ROWS)
    return (pairs[:, :, 0] << np.uint16(8)) | pairs[:, :, 1]


def sketch(text: str) -> Sketch:
    """The MinHash sketch of ``text`` (an empty signature for a text without words)."""
    hashes = shingle_hashes(normalise(text))
    if hashes.size == 0:
        return Sketch(np.zeros(0, dtype=np.uint8), 0)
    bins = (hashes >> _BIN_SHIFT).astype(np.int64)  # sorted, since the hashes are
    first = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    minima = np.zeros(NUM_PERM, dtype=np.uint64)
    minima[bins[first]] = hashes[first] & _VALUE_MASK
    filled = np.zeros(NUM_PERM, dtype=bool)
    filled[bins[first]] = True
    if first.size < NUM_PERM:  # densify: an empty bin copies the first filled bin it probes
        empty = np.flatnonzero(~filled)
        probes = _PROBE[empty]
        minima[empty] = minima[probes[np.arange(empty.size), filled[probes].argmax(axis=1)]]
    signature = (_mix(minima) & np.uint64(0xFF)).astype(np.uint8)
    return Sketch(signature, int(hashes.size))


def jaccard_of_agreement(agree: float) -> float:
    """Jaccard estimate from the share of agreeing 8-bit bins (chance agreement removed)."""
    return max(0.0, (agree - CHANCE) / (1.0 - CHANCE))


def containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Share of the smaller shingle set inside the larger, from Jaccard and the set sizes."""
    if size_a == 0 or size_b == 0:
        return 0.0
    shared = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return min(1.0, shared / min(size_a, size_b))


def similarity(a: Sketch, b: Sketch) -> tuple[float, float]:
    """Estimated (Jaccard, containment of the smaller in the larger) of two sketches."""
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0
    jac = jaccard_of_agreement(float(np.count_nonzero(a.signature == b.signature)) / NUM_PERM)
    return jac, containment(jac, a.size, b.size)
