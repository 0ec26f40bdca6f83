"""The one token count Nimbus reports for models that don't count their own.

A token is a word (letters/digits, any script) or one punctuation mark, each with the
whitespace before it, so joining the tokens of a text gives the text back: the built-in model
streams exactly these pieces. Images cost what Anthropic documents: width x height / 750,
at most 1,600.
"""

from __future__ import annotations

import io
import re
from typing import Any

_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")
_IMAGE_MAX_TOKENS = 1600
_IMAGE_UNKNOWN_TOKENS = 85


def split(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count(text: str) -> int:
    return len(_TOKEN.findall(text)) if text else 0


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the image header (Pillow reads no pixels for this)."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # not an image Pillow knows: the caller decides what that means
        return None


def image_tokens(data: bytes) -> int:
    size = image_size(data)
    if size is None:
        return _IMAGE_UNKNOWN_TOKENS
    width, height = size
    return max(1, min(_IMAGE_MAX_TOKENS, (width * height + 749) // 750))


def count_messages(messages: list[dict[str, Any]], system: list[str]) -> int:
    """Input tokens of a Converse-shaped conversation: text blocks plus images."""
    total = sum(count(text) for text in system)
    for message in messages:
        for block in message.get("content") or ():
            if "text" in block:
                total += count(block["text"])
            elif "image" in block:
                total += image_tokens(block["image"].get("source", {}).get("bytes") or b"")
            elif "document" in block:
                total += count(str(block["document"].get("name", ""))) + 1
    return total
