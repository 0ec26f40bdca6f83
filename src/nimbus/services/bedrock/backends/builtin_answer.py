"""What the built-in offline model says: deterministic, honest about itself, useful in demos.

No weights, no randomness: the same conversation always gets the same answer. It greets,
does arithmetic, repeats text on request, answers in JSON when asked for JSON, and otherwise
restates and summarises the prompt (key terms, the first sentences, attachments) and, when asked
for an N-word text, drafts one from the prompt's key terms. Vietnamese prompts get Vietnamese
answers.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

NOTE = {
    "en": "*(Nimbus built-in offline model: a deterministic stand-in, not a real LLM. "
    "Map this model id to Ollama or Bedrock in the Nimbus bedrock-models config for real "
    "answers.)*",
    "vi": "*(Mô hình offline tích hợp của Nimbus: câu trả lời tất định, không phải LLM thật. "
    "Hãy trỏ model id này tới Ollama hoặc Bedrock trong cấu hình bedrock-models của Nimbus "
    "để có câu trả lời thật.)*",
}

_VI_CHARS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|xin chào|chào)\b", re.I)
_ECHO = re.compile(r"^\s*(?:repeat(?: after me)?|echo|say|nhắc lại)\s*:?\s*(.+)$", re.I | re.S)
_ARITH = re.compile(r"[-+(]*\d[\d.,\s]*(?:[-+*/x\u00d7\u00f7^%]\s*[-+(]*\s*\d[\d.,\s]*\)*\s*)+")
_MATH_ASK = re.compile(
    r"what(?:'s| is)|calculate|compute|evaluate|solve|how much|tính|bằng bao nhiêu|bằng mấy|=", re.I
)
_WORD_COUNT = re.compile(r"\b(\d{2,4})[- ](?:word|words|từ|chữ)\b", re.I)
_WANTS_JSON = re.compile(r"\b(json)\b", re.I)

_STOPWORD_TEXT = """
the and for with that this from your you are was were have has had not but all can will
what which who whom when where why how about into over under than then them they their
there these those its it's our out use using please write create make give tell show word
words each also just like more most some such very would could should may might của và các
những một cho với này được không là có trong để người khi như thì đã sẽ hãy viết tạo về từ
chữ bạn tôi câu
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_OPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def language(text: str) -> str:
    return "vi" if _VI_CHARS.search(text) else "en"


def compose(prompt: str, system: Sequence[str], images: Sequence[str], turns: int) -> str:
    """The whole answer for one conversation (the caller cuts it to maxTokens/stop sequences)."""
    lang = language(prompt)
    body = _special(prompt, lang)
    if body is None and _WANTS_JSON.search(prompt):
        return _json_answer(prompt, lang)  # JSON only (the note inside), so callers can parse it
    if body is None:
        body = _restate(prompt, lang)
    parts = [NOTE[lang], body]
    if images:
        parts.append(_images(images, lang))
    if system:
        label = "Chỉ dẫn hệ thống" if lang == "vi" else "System instructions noted"
        parts.append(f"{label}: “{_clip(' '.join(system), 120)}”")
    if turns > 1:
        parts.append(f"(Lượt {turns} của hội thoại.)" if lang == "vi" else f"(Turn {turns}.)")
    return "\n\n".join(parts)


def _special(prompt: str, lang: str) -> str | None:
    echo = _ECHO.match(prompt)
    if echo:
        return echo.group(1).strip()
    if _GREETING.match(prompt) and len(prompt) < 80:
        if lang == "vi":
            return "Xin chào! Tôi là mô hình offline của Nimbus. Bạn muốn thử điều gì?"
        return "Hello! I'm Nimbus's built-in offline model. What would you like to try?"
    math = _arithmetic(prompt)
    if math is not None:
        return math
    return None


def _arithmetic(prompt: str) -> str | None:
    # "Write 3-5 sentences" is not a subtraction: only short prompts that ask for a result.
    if len(prompt) > 160 or not (_MATH_ASK.search(prompt) or _ARITH.fullmatch(prompt.strip())):
        return None
    for match in _ARITH.finditer(prompt):
        expr = match.group(0).strip().rstrip("=?").strip()
        expr = expr.replace("\u00d7", "*").replace("x", "*").replace("÷", "/").replace("^", "**")
        expr = expr.replace(",", "")
        try:
            value = _evaluate(ast.parse(expr, mode="eval").body)
        except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue
        shown = int(value) if isinstance(value, float) and value.is_integer() else value
        if isinstance(shown, float):
            shown = round(shown, 10)
        return f"{expr.replace('**', '^')} = {shown}"
    return None


def _evaluate(node: ast.AST) -> float | int:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise ValueError("exponent too large")
        return _OPS[type(node.op)](left, right)
    raise ValueError("not arithmetic")


def key_terms(text: str, limit: int = 6) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    words = _syllable_pairs(words) if language(text) == "vi" else [w for w in words if len(w) > 2]
    counts = Counter(w for w in words if w not in _STOPWORDS)
    first = {w: i for i, w in reversed(list(enumerate(words)))}
    return sorted(counts, key=lambda w: (-counts[w], first[w]))[:limit]


def _syllable_pairs(syllables: list[str]) -> list[str]:
    """Vietnamese words are mostly two syllables ("ẩm thực", "đường phố"): pair neighbours
    left to right, never across a stopword, never overlapping."""
    pairs: list[str] = []
    index = 0
    while index < len(syllables) - 1:
        a, b = syllables[index], syllables[index + 1]
        if a in _STOPWORDS or b in _STOPWORDS:
            index += 1
            continue
        pairs.append(f"{a} {b}")
        index += 2
    return pairs


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _restate(prompt: str, lang: str) -> str:
    sentences = _sentences(prompt)
    terms = key_terms(prompt)
    words = len(prompt.split())
    vi = lang == "vi"
    if not sentences:
        return "Bạn chưa gửi nội dung văn bản nào." if vi else "Your message has no text."
    first = _clip(sentences[0], 160)
    lines = [f"Bạn hỏi: “{first}”" if vi else f"You asked: “{first}”", ""]
    if terms:
        label = "Từ khoá" if vi else "Key terms"
        lines.append(f"{label}: " + ", ".join(f"**{t}**" for t in terms))
    label = "Tóm tắt" if vi else "Summary"
    stats = (
        f"{words} từ, {len(sentences)} câu"
        if vi
        else f"{words} words, {len(sentences)} sentence{'s' if len(sentences) > 1 else ''}"
    )
    lines.append(f"{label} ({stats}):")
    lines.extend(f"- {_clip(s, 140)}" for s in sentences[:5])
    wanted = _WORD_COUNT.search(prompt)
    if wanted and terms:
        lines += ["", _draft(terms, min(int(wanted.group(1)), 800), lang)]
    return "\n".join(lines)


_DRAFT = {
    "en": (
        "Discover what makes {a} stand out.",
        "Every detail of {a} is built around {b}.",
        "With {b} and {c}, it is ready for whatever comes next.",
        "People who care about {c} will notice the difference at once.",
        "Try {a} today and see how {b} changes the way you work and play.",
    ),
    "vi": (
        "Khám phá điều làm nên sự khác biệt của {a}.",
        "Mọi chi tiết của {a} đều xoay quanh {b}.",
        "Với {b} và {c}, mọi hành trình đều sẵn sàng.",
        "Ai quan tâm đến {c} sẽ nhận ra sự khác biệt ngay.",
        "Hãy thử {a} hôm nay để thấy {b} thay đổi cuộc sống thế nào.",
    ),
}


def _draft(terms: list[str], words: int, lang: str) -> str:
    """About ``words`` words of template prose over the key terms (a demo stand-in)."""
    a, b, c = (terms * 3)[:3]
    title = "Bản nháp" if lang == "vi" else "Draft"
    out: list[str] = []
    count = 0
    index = 0
    templates = _DRAFT[lang]
    while count < words:
        # Rotate which terms fill the slots so long drafts don't repeat one sentence.
        shift = index // len(templates)
        x, y, z = (terms[(shift + i) % len(terms)] for i in range(3)) if shift else (a, b, c)
        sentence = templates[index % len(templates)].format(a=x, b=y, c=z)
        out.append(sentence)
        count += len(sentence.split())
        index += 1
    return f"**{title}:** " + " ".join(out)


def _json_answer(prompt: str, lang: str) -> str:
    document = {
        "model": "nimbus-builtin",
        "note": NOTE[lang].strip("*()"),
        "summary": _clip(prompt, 200),
        "keywords": key_terms(prompt),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _images(images: Sequence[str], lang: str) -> str:
    listed = ", ".join(images)
    if lang == "vi":
        return f"Đính kèm: {len(images)} ảnh ({listed}); mô hình offline không xem được ảnh."
    return f"Attachments: {len(images)} image(s) ({listed}); the offline model cannot see images."
