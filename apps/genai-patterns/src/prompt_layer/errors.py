"""What a caller did wrong or what went wrong, in the caller's language (Vietnamese or English)."""

from __future__ import annotations

import os

MESSAGES = {
    "vi": {
        "bad_json": 'JSON không hợp lệ: hãy gửi {{"prompt": "..."}}.',
        "empty_prompt": "Câu hỏi đang trống.",
        "too_long": "Câu hỏi quá dài: tối đa {limit} ký tự.",
        "unknown_template": "Không có mẫu prompt '{name}'. Có: {names}.",
        "bad_parameter": "Tham số không hợp lệ: {name}.",
        "missing_variable": "Mẫu prompt cần biến '{name}'.",
        "unavailable": "Mô hình tạm thời không phản hồi; vui lòng thử lại.",
        "unknown_action": "Hành động không hợp lệ: hãy gửi action 'ask' hoặc 'stream'.",
        "internal": "Có lỗi xảy ra; vui lòng thử lại.",
    },
    "en": {
        "bad_json": 'Invalid JSON: send {{"prompt": "..."}}.',
        "empty_prompt": "The prompt is empty.",
        "too_long": "The prompt is too long: {limit} characters at most.",
        "unknown_template": "There is no prompt template '{name}'. Known: {names}.",
        "bad_parameter": "Invalid parameter: {name}.",
        "missing_variable": "The prompt template needs the variable '{name}'.",
        "unavailable": "The model is not answering right now; please try again.",
        "unknown_action": "Unknown action: send action 'ask' or 'stream'.",
        "internal": "Something went wrong; please try again.",
    },
}

#: How the answer language is named inside a prompt template ({{language}}).
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English"}


class LayerError(Exception):
    """A refusal with an HTTP status, a stable key and the values its message needs."""

    def __init__(self, status: int, key: str, **values: str | int) -> None:
        super().__init__(key)
        self.status, self.key, self.values = status, key, values

    def message(self, lang: str) -> str:
        return MESSAGES.get(lang, MESSAGES["en"])[self.key].format(**self.values)

    def to_json(self, lang: str) -> dict:
        return {"error": self.key, "message": self.message(lang)}


def language(explicit: object = None, accept_language: str | None = None) -> str:
    """'vi' or 'en': the explicit choice, else Accept-Language by q-value, else DEFAULT_LANGUAGE."""
    if isinstance(explicit, str) and explicit.lower()[:2] in MESSAGES:
        return explicit.lower()[:2]
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in MESSAGES and quality > 0:
            ranked.append((-quality, position, primary))
    if ranked:
        return min(ranked)[2]
    default = os.environ.get("DEFAULT_LANGUAGE", "vi")
    return default if default in MESSAGES else "vi"
