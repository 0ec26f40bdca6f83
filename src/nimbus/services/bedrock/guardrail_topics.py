"""Denied topics: a deterministic, local, lexical classifier.

AWS decides whether text is "about" a denied topic with a language model reading the topic's
definition and examples. Nimbus has no model here, so it approximates: it turns the topic's
name, definition and examples into weighted words and word pairs, and a text is on the topic
when the words it shares with the topic weigh enough (or it contains one of the examples).

How it scores (all deterministic, precomputed once per guardrail version):
- Content words only: English and Vietnamese function words, and words every definition uses
  ("provide", "information", "cung cấp", "thông tin"), are dropped from the topic's side.
- English words are reduced to a crude stem, so "invest", "investing" and "investments" agree.
- A shared English word weighs 1.0; a shared Vietnamese syllable 0.75 (one syllable of a compound
  like "đầu tư" says little alone); a shared adjacent pair of content words ("đầu tư", "stock
  market") 1.5, and in Vietnamese a pair with one common syllable ("so sánh", "trẻ em") 1.0. A
  feature that several topics of the same guardrail share is divided among them.
- Text with Vietnamese diacritics is compared with diacritics (tone-mark placement ignored).
  Plain-ASCII text is compared with the topic's words folded to ASCII, since people type
  Vietnamese without accents; single folded syllables then weigh only 0.5 because folding
  merges words ("đầu" and "dâu" both become "dau").
- The text is on the topic when its score reaches 2.0, or it contains an example's content words
  in order.

What this cannot do, honestly: it does not understand meaning. A paraphrase that shares no
content word with the definition or examples ("Where should I park my savings?" against a topic
defined with "invest" and "stocks") passes, and an innocent sentence that happens to use the
topic's words ("I read a history of the stock market", against a topic about "stock market"
tips) is blocked. Negation is ignored. Write
definitions and examples with the words your users actually type, in every language you serve;
real Bedrock will generalise further than this.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from nimbus.services.bedrock.guardrail_text import (
    accent_key,
    folded_key,
    is_stop,
    keys,
    tokens,
)

THRESHOLD = 2.0
WORD, SYLLABLE, FOLDED_SYLLABLE, PAIR, PAIR_WITH_STOP = 1.0, 0.75, 0.5, 1.5, 1.0


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    input_enabled: bool
    output_enabled: bool
    input_action: str
    output_action: str


@dataclass(slots=True)
class _Features:
    accent: dict[str, float]
    folded: dict[str, float]
    examples_accent: list[tuple[str, ...]]
    examples_folded: list[tuple[str, ...]]


def _features(name: str, definition: str, examples: Iterable[str]) -> _Features:
    accent: dict[str, float] = {}
    folded: dict[str, float] = {}
    ex_accent: list[tuple[str, ...]] = []
    ex_folded: list[tuple[str, ...]] = []

    def add(table: dict[str, float], key: str, weight: float) -> None:
        table[key] = max(table.get(key, 0.0), weight)

    def scan(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        content_a: list[str] = []
        content_f: list[str] = []
        vietnamese = not text.isascii()  # then "mua", "xe" are syllables too, not English words
        previous: tuple[str, bool, bool] | None = None  # token, is a stop word, is a syllable
        for token in tokens(text.replace("_", " ")):
            stop, syllable = is_stop(token), vietnamese
            a, f = accent_key(token), folded_key(token)
            if previous is not None and not (stop and previous[1]):
                # A pair with one common syllable ("so sánh", "trẻ em") counts in Vietnamese.
                weight = PAIR if not (stop or previous[1]) else PAIR_WITH_STOP
                if weight == PAIR or syllable:
                    add(accent, f"{accent_key(previous[0])} {a}", weight)
                    add(folded, f"{folded_key(previous[0])} {f}", weight)
            previous = (token, stop, syllable)
            if stop:
                continue
            add(accent, a, SYLLABLE if syllable else WORD)
            add(folded, f, FOLDED_SYLLABLE if syllable else WORD)
            content_a.append(a)
            content_f.append(f)
        return tuple(content_a), tuple(content_f)

    scan(name)
    scan(definition)
    for example in examples:
        a, f = scan(example)
        if len(a) >= 2:
            ex_accent.append(a)
            ex_folded.append(f)
    return _Features(accent, folded, ex_accent, ex_folded)


def _contains_in_order(seq: list[str], wanted: tuple[str, ...]) -> bool:
    it = iter(seq)
    return all(any(item == w for item in it) for w in wanted)


class TopicClassifier:
    """All denied topics of one guardrail version, indexed for a single pass over a text."""

    def __init__(self, configs: list[dict]) -> None:
        self.topics: list[Topic] = []
        features: list[_Features] = []
        for cfg in configs:
            self.topics.append(
                Topic(
                    name=cfg["name"],
                    input_enabled=cfg.get("inputEnabled", True),
                    output_enabled=cfg.get("outputEnabled", True),
                    input_action=cfg.get("inputAction", "BLOCK"),
                    output_action=cfg.get("outputAction", "BLOCK"),
                )
            )
            features.append(_features(cfg["name"], cfg["definition"], cfg.get("examples") or ()))
        self._accent = self._index([f.accent for f in features])
        self._folded = self._index([f.folded for f in features])
        self._examples_accent = [f.examples_accent for f in features]
        self._examples_folded = [f.examples_folded for f in features]

    @staticmethod
    def _index(tables: list[dict[str, float]]) -> dict[str, list[tuple[int, float]]]:
        owners: dict[str, list[tuple[int, float]]] = {}
        for index, table in enumerate(tables):
            for key, weight in table.items():
                owners.setdefault(key, []).append((index, weight))
        for entries in owners.values():
            if len(entries) > 1:  # a word several topics share tells them apart less
                entries[:] = [(i, w / len(entries)) for i, w in entries]
        return owners

    def matches(self, text: str) -> list[int]:
        """Indexes of the topics ``text`` is about."""
        seq, folded = keys(text)
        if not seq:
            return []
        index = self._folded if folded else self._accent
        feats = set(seq)
        feats.update(f"{a} {b}" for a, b in itertools.pairwise(seq))
        scores = [0.0] * len(self.topics)
        for feat in feats:
            for topic, weight in index.get(feat, ()):
                scores[topic] += weight
        examples = self._examples_folded if folded else self._examples_accent
        found = []
        for topic, score in enumerate(scores):
            if score >= THRESHOLD or (
                score > 0 and any(_contains_in_order(seq, ex) for ex in examples[topic])
            ):
                found.append(topic)
        return found
