"""Word filters: the guardrail's own words and phrases, and the managed PROFANITY list.

Matching is case-insensitive on whole words (a word inside a longer word does not count) and
any run of spaces in a phrase matches any run of whitespace. The built-in profanity list is
modest on purpose: common English profanity with its usual inflections, and Vietnamese
profanity both with diacritics and in the unaccented and abbreviated forms people type
("địt", "dit me", "đm", "vcl"). Vietnamese syllables that are ordinary words once their accents
are dropped ("lồn" -> "lon", like "lớn") are listed only with their accents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from nimbus.services.bedrock.guardrail_text import tokens

# Words that match with any ending ("fuck" -> "fucking", "fucked").
PROFANITY_STEMS = ("fuck", "motherfuck", "shit", "bullshit", "bitch", "asshole", "arsehole",
                   "jackass", "dumbass", "goddamn", "piss", "địt", "ditme")  # fmt: skip
PROFANITY_WORDS = frozenset(
    """bastard bastards cunt cunts dickhead dickheads cocksucker cocksuckers pussy pussies whore
    whores slut sluts wanker wankers twat twats douchebag douchebags damn damned crap bollocks
    wtf stfu đụ đéo đếch lồn cặc buồi đĩ đm đmm đcm đkm dcm dkm dmm vcl vkl vl clgt cmm""".split()  # noqa: SIM905
)
PROFANITY_PHRASES = frozenset(
    (
        "đụ má", "đụ mẹ", "đĩ điếm", "mẹ kiếp", "đồ khốn", "khốn nạn", "chó chết", "thằng chó",
        "con chó cái", "vãi lồn", "vãi cả lồn", "đồ chó", "dit me", "dit con me", "du ma", "du me",
        "khon nan",
    )
)  # fmt: skip
_LONGEST_PHRASE = max(len(p.split()) for p in PROFANITY_PHRASES)
_PHRASE_STARTS = frozenset(p.split()[0] for p in PROFANITY_PHRASES)


def profanity(text: str) -> list[str]:
    """The profane words and phrases in ``text`` (casefolded), each once, in text order."""
    toks = tokens(text)
    distinct = set(toks)
    words = distinct & PROFANITY_WORDS
    words.update(t for t in distinct if t.startswith(PROFANITY_STEMS))
    starts = distinct & _PHRASE_STARTS
    if not words and not starts:
        return []  # the common case, decided with set operations only
    found: dict[str, None] = {}
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok in starts:
            phrase = _phrase_at(toks, i)
            if phrase:
                found.setdefault(phrase)
                i += phrase.count(" ") + 1
                continue
        if tok in words:
            found.setdefault(tok)
        i += 1
    return list(found)


def _phrase_at(toks: list[str], i: int) -> str | None:
    for size in range(_LONGEST_PHRASE, 1, -1):  # the longest phrase at a position wins
        phrase = " ".join(toks[i : i + size])
        if phrase in PROFANITY_PHRASES:
            return phrase
    return None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _phrase(text: str) -> str:
    """A configured word as a regex: literal, any whitespace between its words."""
    return r"\s+".join(re.escape(part) for part in _nfc(text).split())


def _alternation(fragments: list[str]) -> re.Pattern[str] | None:
    if not fragments:
        return None
    body = "|".join(sorted(fragments, key=len, reverse=True))
    # A lookahead on the possible first letters lets most positions fail at once.
    firsts = {f[0] for f in fragments}
    lead = ""
    if all(c.isalnum() for c in firsts):
        lead = "(?=[" + "".join(sorted(firsts | {c.swapcase() for c in firsts})) + "])"
    return re.compile(rf"{lead}(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _key(text: str) -> str:
    return " ".join(_nfc(text).casefold().split())


@dataclass(frozen=True, slots=True)
class WordRule:
    text: str  # as configured (reported as the match)
    action: str  # BLOCK or NONE


class WordFilter:
    """One compiled pattern for the custom words, one for the managed list, per source."""

    def __init__(self, words: list[dict], managed: list[dict], source: str) -> None:
        prefix = "input" if source == "INPUT" else "output"
        self.rules: dict[str, WordRule] = {}
        for cfg in words:
            if cfg.get(f"{prefix}Enabled", True):
                rule = WordRule(cfg["text"], cfg.get(f"{prefix}Action", "BLOCK"))
                self.rules.setdefault(_key(cfg["text"]), rule)
        self.custom = _alternation([_phrase(rule.text) for rule in self.rules.values()])
        self.profanity_action: str | None = None
        for cfg in managed:
            if cfg.get("type") == "PROFANITY" and cfg.get(f"{prefix}Enabled", True):
                self.profanity_action = cfg.get(f"{prefix}Action", "BLOCK")

    def custom_matches(self, text: str) -> list[WordRule]:
        if self.custom is None:
            return []
        found: dict[str, WordRule] = {}
        for m in self.custom.finditer(_nfc(text)):
            key = _key(m.group())
            rule = self.rules.get(key)
            if rule is not None:
                found.setdefault(key, rule)
        return list(found.values())

    def profanity_matches(self, text: str) -> list[str]:
        return profanity(text) if self.profanity_action else []
