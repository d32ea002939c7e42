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
from pathlib import Path

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


# --- Chinese and Japanese ------------------------------------------------------------------
# Bases: the Chinese and Japanese article bodies of ../shared/benchdata/extraction-readability
# (gmw, youth, qq, pixnet; yahoo-4, hukumusume) and, for Japanese, of which those pages hold
# little, the passages in bench/data/ja-passages.txt written for this set; cut into passages at
# sentence ends, so passages of one article are each other's hard negatives (same topic, same
# names). Variants are what syndication does to CJK wire copy: an agency dateline in front
# ("新华社北京3月31日电（记者王磊）", "【東京共同】"), a sign-off and editor line behind ("（完）",
# "责任编辑：", "（共同）"), the last third cut, light edits (about 3 % of characters replaced,
# full-width and half-width punctuation swapped), an inserted "相关阅读" line. Passages are
# 150 to 450 characters (a Japanese news paragraph of 160 characters says what 60 English
# words say).
CJK_KEYS = {"zh": ("gmw", "youth", "qq", "pixnet"), "ja": ("yahoo-4", "hukumusume")}
CJK_DATELINES = {"zh": ["新华社北京3月31日电（记者王磊）", "中新网上海4月2日电 ", "中央社台北1日电 ",
                        "人民网北京5月8日电 "],
                 "ja": ["【東京共同】", "【ワシントン共同】", "【ソウル時事】", "東京、3月31日（ロイター）－"]}
CJK_FOOTERS = {"zh": ["（完）", "责任编辑：张三", "（记者 李四）\n（完）", "【编辑:王五】"],
               "ja": ["（共同）", "（時事）", "（ロイター）", "（了）"]}
CJK_RELATED = {"zh": "相关阅读：股市收盘上涨 投资者关注最新数据", "ja": "関連記事：株価が続伸 市場は最新統計に注目"}
CJK_BLURB = {"zh": "扫描二维码关注我们的微信公众号，获取每日最新新闻资讯。欢迎转发分享给您的朋友，下载客户端阅读更多精彩内容，"
                   "版权所有，未经授权禁止转载，违者必究。如有问题请联系我们的编辑部。",
             "ja": "最新ニュースをお届けするメールマガジンに登録してください。記事をシェアして友達にも教えてください。"
                   "アプリをダウンロードすると、毎日の主要ニュースや動画をいつでもどこでも読むことができます。無断転載を禁じます。"}
_CJK_SENTENCE = re.compile(r"(?<=[。！？!?])")
_CJK_SWAP = str.maketrans({"，": ",", "：": ":", "（": "(", "）": ")", "“": "「", "”": "」"})


def cjk_passages(language: str) -> list[str]:
    truth = json.loads((SHARED / "benchdata" / "extraction-readability" / "ground-truth.json")
                       .read_text(encoding="utf-8"))
    texts = [truth[key]["articleBody"] for key in CJK_KEYS[language]]
    extra = Path(__file__).resolve().parent / "data" / f"{language}-passages.txt"
    if extra.exists():  # passages written for this set where the shared pages hold too few
        texts += [line for line in extra.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#")]
    out = []
    for text in texts:
        text = re.sub(r"\s+", "", text)
        passage = ""
        for sentence in _CJK_SENTENCE.split(text):
            passage += sentence
            if len(passage) >= 150:
                out.append(passage[:450])
                passage = ""
    return out


def build_cjk(language: str, seed: int = 7) -> list[tuple[str, str, str]]:
    rnd = random.Random(seed)
    texts = cjk_passages(language)
    rnd.shuffle(texts)
    # the boilerplate-carrying stories are at least twice the blurb, as in the English set
    # (a blurb of 60 words on stories of 120 words and more)
    held_out = [t for t in texts if len(t) >= 2 * len(CJK_BLURB[language])][:3]
    rest = [t for t in texts if t not in held_out]

    def dateline(t: str) -> str:
        return rnd.choice(CJK_DATELINES[language]) + t

    def sign_off(t: str) -> str:
        return f"{t}\n{rnd.choice(CJK_FOOTERS[language])}"

    def cut(t: str) -> str:
        return t[: int(len(t) * rnd.uniform(0.6, 0.75))]

    def touch(t: str) -> str:
        chars = list(t.translate(_CJK_SWAP) if rnd.random() < 0.5 else t)
        pool = [c for c in t if "\u4e00" <= c <= "\u9fff"] or ["的"]
        for _ in range(max(1, len(chars) * 3 // 100)):
            chars[rnd.randrange(len(chars))] = rnd.choice(pool)
        return "".join(chars)

    def related_line(t: str) -> str:
        at = rnd.randrange(1, max(2, len(t)))
        cut_at = t.find("。", at)
        cut_at = len(t) if cut_at < 0 else cut_at + 1
        return f"{t[:cut_at]}\n{CJK_RELATED[language]}\n{t[cut_at:]}"

    variants = [dateline, sign_off, cut, touch, related_line]
    items: list[tuple[str, str, str]] = []
    for n, text in enumerate(rest):
        cluster = f"{language}-story-{n}"
        items.append((f"{cluster}-0", text, cluster))
        for v in range(rnd.randint(2, 4)):
            out = text
            for fn in rnd.sample(variants, rnd.randint(1, 3)):
                out = fn(out)
            items.append((f"{cluster}-{v + 1}", out, cluster))
    for n, text in enumerate(held_out):
        items.append((f"{language}-blurb-{n}", f"{text}\n{CJK_BLURB[language]}",
                      f"{language}-blurb-{n}"))
    items.append((f"{language}-blurb-only", CJK_BLURB[language], f"{language}-blurb-only"))
    rnd.shuffle(items)
    return items
