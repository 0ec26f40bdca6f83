"""Text keys the guardrail engine matches on: tokens, Vietnamese diacritics and a light stemmer.

Every token gets two keys. The *accent key* keeps what Vietnamese diacritics say ("đầu" and
"dâu" differ) but ignores where a tone mark sits, so the old ("hòa") and new ("hoà") spellings
agree. The *folded key* drops diacritics entirely ("đầu" -> "dau") and is used when the text to
check is plain ASCII: people often type Vietnamese without accents.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

TOKEN = re.compile(r"[^\W_]+")

# English function words, and words every topic definition uses ("provide", "information").
_EN_STOP = """a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it its
itself just let me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves want wants like
please tell know get got make made need thing things etc e g ie via per
provide provides providing information info question questions ask asking asked request
requests related relating regarding topic topics discuss discussing discussion include including
includes help user users give giving any anything something specific general content talk
talking""".split()  # noqa: SIM905
_VI_STOP = """tôi tui mình bạn anh chị em ông bà cô chú nó họ chúng ta chúng tôi mày tao là có của
và với cho những các này đó kia nào gì không được nên vào về thì mà như để trong ngoài trên dưới
một rất hãy muốn làm sao thế nào ạ à ơi nhé nhỉ đi đã đang sẽ cũng vẫn còn hay hoặc hơn nhất
bị bởi vì nếu khi lúc ở tại từ đến ra lên xuống thì mới chỉ đều cái con việc điều
cung cấp thông tin câu hỏi hỏi liên quan chủ đề giúp nói về bất kỳ""".split()  # noqa: SIM905


def _marks_key(token: str) -> tuple[str, str]:
    """(base letters without diacritics, the sorted diacritics) of one casefolded token."""
    nfd = unicodedata.normalize("NFD", token)
    base = "".join(c for c in nfd if not unicodedata.combining(c))
    marks = "".join(sorted(c for c in nfd if unicodedata.combining(c)))
    if "đ" in base:
        base, marks = base.replace("đ", "d"), marks + "đ"
    return base, marks


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A small English suffix stripper: the same word in any form gets the same key.

    Linguistic accuracy does not matter, consistency does ("trading", "traded", "trade" ->
    "trad"). Tokens of four letters or fewer stay as they are, which also spares most
    unaccented Vietnamese syllables.
    """
    if len(word) <= 4 or not word.isascii():
        return word
    w = word
    if w.endswith("ies") and len(w) > 5:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    stripped = False
    for suffix, keep in (("ment", 4), ("ing", 3), ("ed", 3), ("er", 4), ("or", 4), ("ly", 4)):
        if w.endswith(suffix) and len(w) - len(suffix) >= keep:
            w = w[: -len(suffix)]
            stripped = True
            break
    if stripped and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # "betting" -> "bet"
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


@lru_cache(maxsize=65536)
def accent_key(token: str) -> str:
    if token.isascii():
        return stem(token)
    base, marks = _marks_key(token)
    return f"{base}\x00{marks}" if marks else stem(base)


@lru_cache(maxsize=65536)
def folded_key(token: str) -> str:
    return stem(token) if token.isascii() else stem(_marks_key(token)[0])


def has_diacritics(token: str) -> bool:
    return not token.isascii()


def tokens(text: str) -> list[str]:
    """Casefolded word tokens (letters and digits), NFC so composed and decomposed input agree."""
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFC", folded)
    return TOKEN.findall(folded)


def keys(text: str) -> tuple[list[str], bool]:
    """The text's token keys and whether they are folded keys (the text is plain ASCII)."""
    toks = tokens(text)
    if text.isascii():
        return [stem(t) for t in toks], True
    return [accent_key(t) for t in toks], False


STOP_ACCENT = frozenset(accent_key(w) for w in (*_EN_STOP, *_VI_STOP))


def is_stop(token: str) -> bool:
    return accent_key(token) in STOP_ACCENT or len(token) == 1
