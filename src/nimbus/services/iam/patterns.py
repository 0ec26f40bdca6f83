"""IAM wildcard matching (``*`` any run of characters, ``?`` one character), compiled once."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=8192)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        # Fast path: most statements name exact actions/ARNs.
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _compile(pattern, ignore_case).fullmatch(value) is not None
