"""Generate the labelled near-duplicate evaluation set from real article texts.

Source: the hand-checked article bodies in ../shared/benchdata/extraction/ground-truth.json.
Deterministic (seeded). Each item is (id, text, true_cluster).

- Positives: for most bases, the original plus 2-4 syndicated variants drawn from: wire-tag
  dateline in front ("CITY (Reuters) - "), agency sign-off and copyright footer behind, the last
  third cut, light edits (about 3 % of words replaced, quote styles and spacing changed), an
  inserted "Related:" line; variants can combine.
- Hard negatives: held-out bases that each carry the same leaked newsletter/share boilerplate
  (must stay apart), the boilerplate alone (must stay a singleton), the other bases, many on
  similar news topics, and for 60 stories another outlet's own report of the same event (same
  people, places and vocabulary, the same quotations word for word, the rest of the sentences
  in the outlet's own words, shorter), which must not join the story's cluster.
"""

from __future__ import annotations

import json
import random
import re

from common import SHARED

WIRES = ["Reuters", "AP", "AFP", "Bloomberg"]
CITIES = ["WASHINGTON", "LONDON", "BEIJING", "NEW YORK", "PARIS", "NAIROBI", "SYDNEY"]
BLURB = ("Sign up for our morning newsletter to get the day's top stories delivered to your inbox. "
         "Follow us on Twitter and Facebook for breaking news, share this article with your "
         "friends, and download our free app for the latest headlines, videos and podcasts "
         "from our newsroom and correspondents around the world, every day of the week.")
FILLER = ["officials", "said", "reported", "week", "government", "people", "new", "city",
          "local", "national", "recent", "several", "many", "public", "major"]


def bases(min_words: int = 120) -> list[str]:
    truth = json.loads((SHARED / "benchdata" / "extraction" / "ground-truth.json")
                       .read_text(encoding="utf-8"))
    texts = [v["articleBody"].strip() for _, v in sorted(truth.items())]
    return [t for t in texts if len(t.split()) >= min_words]


def wire(text: str, rnd: random.Random) -> str:
    return f"{rnd.choice(CITIES)} ({rnd.choice(WIRES)}) - {text}"


def footer(text: str, rnd: random.Random) -> str:
    return (f"{text}\nReporting by Jane Doe; Additional reporting by Li Wei; Editing by "
            f"Mark Heinrich\n© 2026 {rnd.choice(WIRES)}. All rights reserved.")


def truncate(text: str, rnd: random.Random) -> str:
    words = text.split(" ")
    return " ".join(words[: int(len(words) * rnd.uniform(0.6, 0.75))])


def edit(text: str, rnd: random.Random) -> str:
    words = text.split(" ")
    for _ in range(max(1, len(words) * 3 // 100)):
        words[rnd.randrange(len(words))] = rnd.choice(FILLER)
    out = " ".join(words).replace('"', "\u201c", 1).replace("'", "\u2019")
    return re.sub(r"\. ", ".  ", out)


def related(text: str, rnd: random.Random) -> str:
    paras = text.split("\n")
    at = rnd.randrange(1, max(2, len(paras)))
    paras.insert(at, "Related: Markets rally as investors weigh the latest data")
    return "\n".join(paras)


VARIANTS = [wire, footer, truncate, edit, related]
_SENTENCE = re.compile(r'(?<=[.!?\u201d"])\s+(?=[A-Z\u201c"])')
_QUOTED = re.compile(r'(“[^”]*”|"[^"]*")')


def own_report(text: str, rnd: random.Random) -> str:
    """Another outlet's report of the same event: quotations kept word for word, every other
    stretch reworded (its words reordered, a fifth dropped), a fifth of the sentences left out."""
    out = []
    for sentence in _SENTENCE.split(text.replace("\n", " ")):
        if rnd.random() < 0.2:
            continue
        for part in _QUOTED.split(sentence):
            if _QUOTED.fullmatch(part):
                out.append(part)
            else:
                words = part.split()
                rnd.shuffle(words)
                out.append(" ".join(words[: max(1, len(words) * 4 // 5)]))
    return " ".join(w for w in out if w)


def build(seed: int = 7) -> list[tuple[str, str, str]]:
    rnd = random.Random(seed)
    texts = bases()
    rnd.shuffle(texts)
    held_out = texts[:20]
    items: list[tuple[str, str, str]] = []
    for n, text in enumerate(texts[20:]):
        cluster = f"story-{n}"
        items.append((f"{cluster}-0", text, cluster))
        for v in range(rnd.randint(2, 4)):
            out = text
            for fn in rnd.sample(VARIANTS, rnd.randint(1, 3)):
                out = fn(out, rnd)
            items.append((f"{cluster}-{v + 1}", out, cluster))
    for n, text in enumerate(texts[20:80]):
        items.append((f"report-{n}", own_report(text, rnd), f"report-{n}"))
    for n, text in enumerate(held_out):
        items.append((f"blurb-{n}", f"{text}\n{BLURB}", f"blurb-{n}"))
    items.append(("blurb-only", BLURB, "blurb-only"))
    rnd.shuffle(items)
    return items


if __name__ == "__main__":
    data = build()
    print(f"{len(data)} items in {len({c for _, _, c in data})} true clusters")
