"""Place names in the languages the region tagger reads besides English.

``ingest/data/names.json`` (built by ``scripts/build_names.py`` from CLDR and GeoNames, plus
hand lists of short forms and demonyms) lists, per language, names with their country and kind.
Each language is matched the way it is written:

- Chinese and Japanese have no spaces: names match as substrings ("美国总统", "ロシア軍"); a
  katakana name must not run on into more katakana ("タイ" is not in "タイム").
- Korean attaches particles: a name matches at the start of a word and may be followed by up to
  five syllables ("미국은", "중국산").
- Russian inflects: every word of a name matches its stem plus an ending of its declension
  ("России", "Южной Кореи", "Киеве"); a single-word place also matches as an adjective or a
  demonym in any case ("российский", "китайцы", "московского"). Hand-listed stems cover the
  irregular ones ("немецк-", "турецк-").
- Arabic attaches clitics and forms adjectives with -ي: a name matches after و/ف/ب/ل/ك, keeping
  its article if it has one ("والصين", "بالرقة", not "فرقة"), and a country's or a capital's as
  its nisba ("الروسي", "الصينية").
- Spanish, French, Portuguese, German and Indonesian: names match as written (German adds a
  genitive -s), capitalised; demonyms in their gender and number forms, in any case.

Abbreviations match in capitals only; frequent words that only look like a form of a name
(``stop``) never match, and a smaller city named like a frequent word (``common``) does not
where a sentence starts; both lists come from the build. Which languages are matched: those
whose script appears in the text (Cyrillic, Arabic, Hangul, Han, kana: so a wrongly declared
language costs nothing), plus the article's language when it is one of the Latin-script
languages above. ``find`` gives (start, end, matched text, country, kind).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ahocorasick

DATA = Path(__file__).resolve().parent / "data" / "names.json"
LATIN_LANGUAGES = frozenset({"es", "fr", "de", "pt", "id"})
SCRIPT_LANGUAGES = frozenset({"zh", "ja", "ko", "ar", "ru"})
LANGUAGES = LATIN_LANGUAGES | SCRIPT_LANGUAGES
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "ko"})  # names matched in the text as it is

_HANGUL = re.compile(r"[\uAC00-\uD7AF]")
_KATAKANA = frozenset(chr(c) for c in range(0x30A0, 0x3100))

# Russian declension endings by how the word ends (nominative): noun classes and adjectives.
_RU_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ия", ("ия", "ии", "ию", "ией", "ие")),
    ("ье", ("ье", "ья", "ью", "ьем")),
    ("ая", ("ая", "ой", "ую", "ою")),
    ("яя", ("яя", "ей", "юю")),
    ("ые", ("ые", "ых", "ым", "ыми")),
    ("ие", ("ие", "их", "им", "ими")),
    ("ый", ("ый", "ого", "ому", "ым", "ом")),
    ("ий", ("ий", "ого", "ому", "им", "ом", "его", "ему", "ем")),
    ("ой", ("ой", "ого", "ому", "ым", "ом")),
    ("ое", ("ое", "ого", "ому", "ым", "ом")),
    ("а", ("а", "ы", "и", "е", "у", "ой", "ою", "ей", "ам", "ами", "ах")),
    ("я", ("я", "и", "е", "ю", "ей", "ею")),
    ("й", ("й", "я", "ю", "ем", "е")),
    ("ь", ("ь", "и", "ью", "я", "ю", "ем", "е", "ей", "ям", "ями", "ях")),
    ("ы", ("ы", "ов", "ам", "ами", "ах")),
    ("и", ("и", "ов", "ей", "ам", "ями", "ах", "ях", "ами")),
)
_RU_CONSONANT = ("", "а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах")
_RU_ADJECTIVE_ENDINGS = r"(?:ий|ого|ому|им|ом|ая|ой|ую|ое|ие|их|ими|ей|ых|ым|ыми)"
_RU_ADJECTIVE = r"[а-яё]{0,4}?(?:ск|цк)" + _RU_ADJECTIVE_ENDINGS
_RU_DEMONYM = (r"[а-яё]{0,3}?(?:ец|ца|цу|цем|це|цы|цев|цам|цами|цах|янин|янина|яне|ян|янам|"
               r"янами|янах|анин|ане|ан|анам|анами|анах|ка|ки|кой)")
# What stands before a surname: a given name (any case form), a patronymic, or initials.
_RU_PERSON = re.compile(
    r"(?:\b(?:Александр|Алексе|Андре|Анн|Антон|Арт[её]м|Борис|Вадим|Валентин|Валери|Василь|"
    r"Васили|Виктор|Витали|Владимир|Владислав|Вячеслав|Геннади|Георги|Григори|Денис|Дмитри|"
    r"Евгени|Егор|Екатерин|Елен|Иван|Игор|Иль|Ирин|Кирилл|Константин|Леонид|Максим|Мари|Марин|"
    r"Михаил|Наталь|Никит|Никола|Олег|Ольг|Павл|Павел|П[её]тр|Петр|Роман|Рамзан|Светлан|Серге|"
    r"Станислав|Татьян|Ф[её]дор|Юли|Юри|Яков|Ярослав)[а-яё]{0,3}|"
    r"\b[А-ЯЁ][а-яё]+(?:вич|вн)[а-яё]{0,3}|\b[А-ЯЁ]\.\s?(?:[А-ЯЁ]\.\s?)?)\s*$")
_AR_NISBA = ("ي", "ية", "يين", "يون", "يان", "يتين")

# Demonym inflection of the Latin-script languages: (base ends with, forms replacing it)
_LATIN_FORMS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "es": (("o", ("o", "a", "os", "as")), ("és", ("és", "esa", "esas", "eses")),
           ("án", ("án", "ana", "anas", "anes")), ("e", ("e", "es")), ("í", ("í", "íes", "ís")),
           ("a", ("a", "as")), ("", ("", "a", "as", "es"))),
    "pt": (("o", ("o", "a", "os", "as")), ("ês", ("ês", "esa", "esas", "eses")),
           ("ão", ("ão", "ã", "ães", "ãs")), ("e", ("e", "es")), ("a", ("a", "as")),
           ("l", ("l", "la", "las")), ("", ("", "a", "as", "es"))),
    "fr": (("ien", ("ien", "ienne", "iens", "iennes")), ("éen", ("éen", "éenne", "éens", "éennes")),
           ("e", ("e", "es")), ("s", ("s", "se", "ses")), ("", ("", "e", "s", "es"))),
    "de": (("", ("", "e", "en", "er", "es", "em")),),
}
_LATIN_NAME_ENDINGS = {"de": ("", "s", "es")}


def fold(text: str, language: str = "") -> str:
    """Lower-cased text of the same length (offsets stay valid); Russian ё as е, Arabic alef
    forms unified."""
    lower = text.lower()
    if len(lower) != len(text):  # "İ" lower-cases to two characters: keep such as they are
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    if language == "ru":
        lower = lower.replace("ё", "е")  # written either way ("Объединённые", "Объединенные")
    elif language == "ar":
        for alef in "أإآٱ":
            lower = lower.replace(alef, "ا")
        lower = lower.replace("ى", "ي")
    return lower


_SCRIPT_CLASSES = {"ru": "\u0400-\u04FF", "ar": "\u0600-\u06FF", "ko": "\uAC00-\uD7AF",
                   "kana": "\u3040-\u30FF", "han": "\u4E00-\u9FFF"}


@functools.lru_cache(maxsize=32)
def _any_of(scripts: frozenset[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(_SCRIPT_CLASSES[s] for s in sorted(scripts)) + "]")


def _script_of(char: str) -> str:
    code = ord(char)
    return ("ru" if code < 0x0500 else "ar" if code < 0x0700 else "kana" if code < 0x3100
            else "han" if code < 0xA000 else "ko")


def languages_of(text: str, language: str | None) -> tuple[str, ...]:
    """The languages to match in ``text``: by script, plus a Latin-script ``language``. Each
    step looks only for the scripts not found yet, from where the last one was found, so a
    text in one script is read about twice, not once per script."""
    found = [language] if language and language in LATIN_LANGUAGES else []
    remaining = frozenset(_SCRIPT_CLASSES)
    scripts = set()
    position = 0
    while remaining:
        m = _any_of(remaining).search(text, position)
        if m is None:
            break
        script = _script_of(m.group())
        scripts.add(script)
        remaining -= {script}
        position = m.start()
    found += [lang for lang in ("ru", "ar", "ko") if lang in scripts]
    if "kana" in scripts:
        found.append("ja")
    elif "han" in scripts:
        found.append("zh")
    return tuple(found)


class _Entry:
    """One name: the regex sources of its forms (``pattern``: the name's own forms, which must
    start with a capital letter when ``cased``; ``lower_ok``: forms in any case, adjectives and
    demonyms)."""

    __slots__ = ("abbreviation", "cased", "clitics", "code", "kind", "lower_ok", "name",
                 "pattern")

    def __init__(self, code: str, kind: str, pattern: str | None, cased: bool,
                 lower_ok: str | None = None, clitics: tuple[str, ...] | None = None) -> None:
        self.clitics = clitics  # Arabic: the prefixes its forms may carry (None: all)
        self.code, self.kind, self.pattern = code, kind, pattern
        self.cased = cased
        self.lower_ok = lower_ok
        self.name = ""  # set with ``abbreviation`` by LocalNames, which knows the name
        self.abbreviation = False


class _Group:
    """The names whose stem is one automaton key (after the same clitic): tried as one regex of
    alternatives, in order, compiled on first use (most names never occur in a process)."""

    __slots__ = ("_compiled", "entries", "prefix_len")

    def __init__(self, prefix_len: int) -> None:
        self.prefix_len = prefix_len
        self.entries: list[_Entry] = []
        self._compiled: dict[bool, tuple[re.Pattern[str] | None, list[tuple[_Entry, str]]]] = {}

    def regex(self, upper: bool) -> tuple[re.Pattern[str] | None, list[tuple[_Entry, str]]]:
        """The alternatives for a word starting with a capital letter (``upper``) or not, and
        which name and kind each alternative stands for (by group number)."""
        got = self._compiled.get(upper)
        if got is None:
            alternatives: list[tuple[str, _Entry, str]] = []
            for entry in self.entries:
                if entry.pattern and (upper or not entry.cased):
                    alternatives.append((entry.pattern, entry, entry.kind))
                if entry.lower_ok:
                    alternatives.append((entry.lower_ok, entry, "demonyms"))
            rx = re.compile("|".join(f"({src})" for src, _, _ in alternatives)) \
                if alternatives else None
            got = self._compiled[upper] = (rx, [(e, k) for _, e, k in alternatives])
        return got

    @property
    def upper_only(self) -> bool:
        return all(e.cased and e.lower_ok is None for e in self.entries)


# Arabic clitics before a name: conjunction, preposition, article ("والصين", "بالصين", "للصين")
_AR_PREFIXES = tuple(dict.fromkeys(
    [a + b + c for a in ("", "و", "ف") for b in ("", "ب", "ك", "ل") for c in ("", "ال")]
    + [a + "لل" for a in ("", "و", "ف")]))
_AR_ARTICLE_PREFIXES = tuple(p for p in _AR_PREFIXES if p.endswith(("ال", "لل")))
_AR_BARE_PREFIXES = tuple(p for p in _AR_PREFIXES if not p.endswith(("ال", "لل")))
_NOT_WORD = re.compile(r"\W")


class LocalNames:
    """The names of one language and how to match them."""

    def __init__(self, language: str, rows: Iterable[list[str]],
                 stop: Iterable[str] = (), common: Iterable[str] = ()) -> None:
        self.language = language
        # smaller cities named like frequent words: only where a capital letter marks a name
        self.common = frozenset(common)
        # frequent words that look like a place's form ("глаза", eyes, like Глазов; "reunión",
        # a meeting, like Réunion): found by scripts/build_names.py, never taken for places
        self.stop = frozenset(fold(w, language) for w in stop)
        self.automaton = ahocorasick.Automaton()
        unspaced = language in UNSPACED_LANGUAGES
        prefixes = _AR_PREFIXES if language == "ar" else ("",)
        keyed: dict[str, dict[int, _Group]] = {}
        for name, code, kind in rows:
            name = unicodedata.normalize("NFC", name)
            # "США", "RI", "AS": matched in capitals only, so "As" and "Ri" are not them
            abbreviation = len(name) > 1 and name.isupper()
            for key, entry in self._compile(name, code, kind):
                entry.name, entry.abbreviation = name, abbreviation
                # two letters only for abbreviations ("РФ"): shorter stems hit inside every word
                if not (unspaced or len(key) >= 3 or (len(key) == 2 and abbreviation)):
                    continue
                if unspaced:
                    keyed.setdefault(key, {}).setdefault(0, _Group(0)).entries.append(entry)
                    continue
                # spaced scripts: keys start at a word (a space, then any clitic, then the stem),
                # so the automaton reports only hits at the start of a word
                for prefix in entry.clitics if entry.clitics is not None else prefixes:
                    # as in the spaced text: "palais bourbon", "нью йорк"
                    spaced_key = " " + _NOT_WORD.sub(" ", prefix + key)
                    groups = keyed.setdefault(spaced_key, {})
                    groups.setdefault(len(prefix), _Group(len(prefix))).entries.append(entry)
        for key, by_prefix in keyed.items():
            ordered = tuple(by_prefix[n] for n in sorted(by_prefix))
            # a key whose names all need a capital letter is skipped at once on a lower-case word
            upper_only = all(g.upper_only for g in ordered)
            self.automaton.add_word(key, (len(key), ordered, upper_only))
        if keyed:
            self.automaton.make_automaton()
        self.empty = not keyed

    # -- building ---------------------------------------------------------------------------

    def _compile(self, name: str, code: str, kind: str) -> list[tuple[str, _Entry]]:
        lang = self.language
        if lang in UNSPACED_LANGUAGES:
            return [(name, _Entry(code, kind, None, cased=False))]
        folded = fold(name, lang)
        if lang == "ru":
            return self._russian(name, folded, code, kind)
        if lang == "ar":
            return self._arabic(name, folded, code, kind)
        return self._latin(name, folded, code, kind)

    def _russian(self, name: str, folded: str, code: str, kind: str) -> list[tuple[str, _Entry]]:
        if kind == "demonyms":  # a hand-listed stem: any ending
            return [(folded, _Entry(code, kind, re.escape(folded) + r"[а-яё]{0,4}(?!\w)",
                                    cased=False))]
        words = folded.split()
        parts, first_stem = [], ""
        for i, word in enumerate(words):
            stem, endings = _ru_stem(word, abbreviation=name.split()[i].isupper())
            first_stem = first_stem or stem
            ends = "|".join(re.escape(e) for e in sorted(endings, key=len, reverse=True))
            parts.append(re.escape(stem) + (f"(?:{ends})" if ends else ""))
        lower_ok = None
        if len(words) == 1 and len(first_stem) >= 4 and not name.isupper():
            # "Курская" from "Курск": the adjective ending follows the stem directly
            direct = f"|{_RU_ADJECTIVE_ENDINGS}" if first_stem.endswith(("ск", "цк")) else ""
            lower_ok = (re.escape(first_stem) + f"(?:{_RU_ADJECTIVE}|{_RU_DEMONYM}{direct})"
                        + r"(?!\w)")
        return [(first_stem, _Entry(code, kind, r"\s+".join(parts) + r"(?!\w)",
                                    cased=name[:1].isupper(), lower_ok=lower_ok))]

    def _arabic(self, name: str, folded: str, code: str, kind: str) -> list[tuple[str, _Entry]]:
        words = folded.split()
        # the article as written ("الصين"), not an alef folded into one ("ألمانيا")
        article = name.startswith("ال") and len(words[0]) > 4
        head = words[0][2:] if article else words[0]
        # the clitics a form may carry: a name with the article keeps it ("والرقة", never
        # "فرقة", a band, or "ورقة", paper, for الرقة); one without takes none ("وبغداد") unless
        # its nisba does ("الروسي")
        clitics = _AR_ARTICLE_PREFIXES if article else _AR_BARE_PREFIXES
        if len(words) > 1:
            rest = folded[len(words[0]) - len(head):]
            return [(head, _Entry(code, kind, re.escape(rest) + r"(?!\w)", cased=False,
                                  clitics=clitics))]
        if kind not in ("names", "capitals"):  # a city's nisba is mostly a surname or a word
            return [(head, _Entry(code, kind, re.escape(head) + r"(?!\w)", cased=False,
                                  clitics=clitics))]
        core = head
        for tail in ("يا", "ا", "ة"):
            if core.endswith(tail) and len(core) - len(tail) >= 3:
                core = core[: -len(tail)]
                break
        endings = {head[len(core):], *_AR_NISBA}
        ends = "|".join(re.escape(e) for e in sorted(endings, key=len, reverse=True))
        return [(core, _Entry(code, kind, re.escape(core) + f"(?:{ends})" + r"(?!\w)",
                              cased=False))]

    def _latin(self, name: str, folded: str, code: str, kind: str) -> list[tuple[str, _Entry]]:
        lang = self.language
        if kind == "demonyms":
            forms = _latin_forms(lang, folded)
            ends = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            key = forms[0]
            while not all(f.startswith(key) for f in forms):
                key = key[:-1]  # the forms' common beginning
            return [(key, _Entry(code, kind, f"(?:{ends})" + r"(?![\w-])", cased=False))]
        endings = "|".join(re.escape(e) for e in _LATIN_NAME_ENDINGS.get(lang, ()) if e)
        pattern = re.escape(folded) + (f"(?:{endings})?" if endings else "") + r"(?!\w)"
        return [(folded, _Entry(code, kind, pattern, cased=name[:1].isupper()))]

    # -- matching ---------------------------------------------------------------------------

    def find(self, chunk: str) -> list[tuple[int, int, str, str, str]]:
        """(start, end, matched text, country, kind) of every name in ``chunk``."""
        if self.empty or not chunk:
            return []
        if self.language in UNSPACED_LANGUAGES:
            return self._find_unspaced(chunk)
        return [(start, end, chunk[start:end], entry.code, kind)
                for start, end, entry, kind in self.matches(chunk)]

    def matches(self, chunk: str) -> list[tuple[int, int, _Entry, str]]:
        """(start, end, name entry, kind) of every name in ``chunk`` (spaced scripts)."""
        text = fold(chunk, self.language)
        # a space before every word: hit positions in ``spaced`` are one ahead of ``text``'s
        spaced = " " + _NOT_WORD.sub(" ", text)
        found: list[tuple[int, int, _Entry, str]] = []
        russian = self.language == "ru"
        for end, (length, groups, upper_only) in self.automaton.iter(spaced):
            word_start = end - length + 1  # the key's leading space, i.e. the word in ``text``
            for group in groups:
                start = word_start + group.prefix_len
                upper = chunk[start].isupper()
                if upper_only and not upper:
                    break
                rx, owners = group.regex(upper)
                m = rx.match(text, start) if rx is not None else None
                if m is None:
                    continue
                entry, kind = owners[(m.lastindex or 1) - 1]
                if entry.abbreviation and not chunk[start:m.end()].isupper():
                    break
                if self.stop and text[word_start:m.end()] in self.stop:
                    break
                if entry.name in self.common and _sentence_start(chunk, word_start) and \
                        not chunk[word_start:m.end()].isupper():
                    break  # "Метро ..." opening a sentence is the word ("ИРКУТСК, 5 мая" is not)
                if kind == "cities" and russian and _RU_PERSON.search(
                        chunk, max(0, word_start - 32), word_start):
                    break  # "Владимир Иванов", "С. Королёв": a surname, not a city
                found.append((word_start, m.end(), entry, kind))
                break
        return found

    def _find_unspaced(self, chunk: str) -> list[tuple[int, int, str, str, str]]:
        found = []
        korean = self.language == "ko"
        size = len(chunk)
        for end, (length, groups, _) in self.automaton.iter(chunk):
            start = end - length + 1
            before = chunk[start - 1] if start > 0 else " "
            after = chunk[end + 1] if end + 1 < size else " "
            if korean:
                if before.isalnum():
                    continue
                stop = end + 1
                while stop < size and _HANGUL.match(chunk[stop]):
                    stop += 1
                if stop - end - 1 > 5:
                    continue
            elif (chunk[start] in _KATAKANA and before in _KATAKANA) or (
                    chunk[end] in _KATAKANA and after in _KATAKANA):
                continue  # "タイ" in "タイム"
            entry = groups[0].entries[0]
            found.append((start, end + 1, chunk[start:end + 1], entry.code, entry.kind))
        return found


_OPENERS = frozenset(".!?…:;\"«»“”„()[]—–-\n")


def _sentence_start(chunk: str, start: int) -> bool:
    """Whether ``start`` opens a sentence, a line or a quotation (a capital letter there says
    nothing)."""
    i = start - 1
    while i >= 0 and chunk[i] in " \t":
        i -= 1
    return i < 0 or chunk[i] in _OPENERS


def _ru_stem(word: str, abbreviation: bool) -> tuple[str, tuple[str, ...]]:
    """A Russian word's stem and the endings of its declension."""
    if abbreviation or "-" in word[-4:]:
        return word, ("",)
    for ending, endings in _RU_CLASSES:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)], endings
    if word[-1:] in "оеуиюэ":  # indeclinable: Конго, Чили, Перу
        return word, ("",)
    return word, _RU_CONSONANT


def _latin_forms(language: str, base: str) -> tuple[str, ...]:
    for ending, forms in _LATIN_FORMS.get(language, ()):
        if base.endswith(ending):
            root = base[: len(base) - len(ending)] if ending else base
            return tuple(dict.fromkeys(root + f for f in forms))
    return (base,)


@functools.lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return doc


@functools.lru_cache(maxsize=len(LANGUAGES))
def names_for(language: str) -> LocalNames:
    """The matcher of one language (built on first use: each takes a moment)."""
    doc = _document()
    return LocalNames(language, doc["languages"].get(language, []),
                      doc.get("stop", {}).get(language, ()),
                      doc.get("common", {}).get(language, ()))


def section_aliases() -> dict[str, str]:
    """Section labels of regions in these languages, lower-cased, to region names."""
    return {k.lower(): v for k, v in _document()["sections"].items()}
