"""Content filters and contextual grounding, simplified.

AWS grades harmful content (HATE, INSULTS, SEXUAL, VIOLENCE, MISCONDUCT, PROMPT_ATTACK) with a
classifier that reports a confidence. Nimbus only knows a short list of unambiguous English and
Vietnamese phrases per category: a phrase found counts as HIGH confidence, so any filter
strength other than NONE blocks it, and anything not on the list passes. Treat it as a smoke
test for the wiring (blocked messages, traces), not as moderation.

Contextual grounding compares words: the grounding score is the share of the answer's content
words found in the grounding source, the relevance score the share of the query's content words
found in the answer. AWS uses a model for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nimbus.services.bedrock.guardrail_text import accent_key, is_stop, tokens

_EARLIER = r"(?:all |any )?(?:of )?(?:the |your )?(?:previous|prior|above|earlier|system)"
_PHRASES: dict[str, tuple[str, ...]] = {
    "PROMPT_ATTACK": (
        rf"(?:ignore|disregard|forget) {_EARLIER} (?:instructions|prompts?|rules)",
        r"reveal (?:your|the) (?:system prompt|hidden instructions)",
        r"you are now (?:DAN|in developer mode)",
        r"developer mode enabled",
        r"pretend (?:that )?you have no (?:rules|restrictions|guidelines)",
        r"jailbreak",
        r"bỏ qua (?:tất cả |mọi )?(?:các )?(?:hướng dẫn|chỉ dẫn|quy tắc|lệnh) (?:trước|trên)",
        r"quên (?:hết |tất cả )?(?:các )?(?:hướng dẫn|chỉ dẫn|quy tắc) (?:trước|trên)",
        r"tiết lộ (?:lời nhắc|prompt) hệ thống",
    ),
    "INSULTS": (
        r"you(?:'re| are) (?:an? )?(?:idiot|moron|imbecile|stupid|dumb|loser)\w*",
        r"shut up,? (?:you )?(?:idiot|moron)",
        r"đồ ngu",
        r"thằng ngu",
        r"con ngu",
        r"ngu như bò",
        r"đồ ngốc",
        r"đồ vô dụng",
    ),
    "HATE": (
        r"(?:all|those) \w+ (?:people )?(?:are|should be) (?:vermin|subhuman|exterminated)",
        r"subhuman",
        r"ethnic cleansing",
        r"go back to your country",
        r"diệt chủng",
        r"lũ mọi rợ",
    ),
    "VIOLENCE": (
        r"(?:i will|i'm going to|gonna) (?:kill|murder|shoot|stab) (?:you|him|her|them|everyone)",
        r"how (?:do i|to) (?:make|build) a (?:bomb|pipe bomb|explosive)",
        r"mass shooting",
        r"giết (?:mày|chết mày|hết|người)",
        r"chế tạo bom",
        r"đánh chết",
    ),
    "SEXUAL": (
        r"porn\w*",
        r"explicit sex\w*",
        r"sexual intercourse",
        r"nude (?:photos?|pics?|images?)",
        r"khiêu dâm",
        r"ảnh nóng",
        r"phim sex",
        r"làm tình",
    ),
    "MISCONDUCT": (
        r"how (?:do i|to|can i) (?:steal|shoplift|launder money|make meth|hack into|forge)",
        r"buy (?:cocaine|heroin|meth|illegal drugs)",
        r"rửa tiền",
        r"mua ma túy",
        r"cách (?:ăn trộm|trộm cắp|làm giả giấy tờ|hack)",
    ),
}
_PATTERNS = {
    kind: re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)
    for kind, phrases in _PHRASES.items()
}


@dataclass(frozen=True, slots=True)
class ContentRule:
    type: str
    strength: str  # NONE, LOW, MEDIUM, HIGH
    action: str  # BLOCK or NONE


def content_rules(filters: list[dict], source: str) -> list[ContentRule]:
    prefix = "input" if source == "INPUT" else "output"
    rules = []
    for cfg in filters:
        strength = cfg.get(f"{prefix}Strength", "NONE")
        if strength == "NONE" or not cfg.get(f"{prefix}Enabled", True):
            continue
        rules.append(ContentRule(cfg["type"], strength, cfg.get(f"{prefix}Action", "BLOCK")))
    return rules


def content_hits(rules: list[ContentRule], text: str) -> list[ContentRule]:
    return [rule for rule in rules if _PATTERNS[rule.type].search(text)]


def _content_words(text: str) -> set[str]:
    return {accent_key(t) for t in tokens(text) if not is_stop(t)}


def overlap(part: str, whole: str) -> float:
    """Share of ``part``'s content words that ``whole`` contains (1.0 when ``part`` has none)."""
    wanted = _content_words(part)
    if not wanted:
        return 1.0
    return round(len(wanted & _content_words(whole)) / len(wanted), 2)
