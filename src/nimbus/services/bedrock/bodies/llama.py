"""Meta Llama bodies: a raw prompt in, ``generation`` out.

Llama 3 prompts carry the chat template (``<|start_header_id|>user<|end_header_id|>``); they
are read back into Converse messages so any backend gets a proper conversation. Llama 2's
``[INST] ... [/INST]`` and plain prompts become one user message.
"""

from __future__ import annotations

import re

from nimbus.services.bedrock.backends.base import ChatRequest, ChatResult
from nimbus.services.bedrock.bodies.common import (
    Body,
    b64decode,
    check_keys,
    get_float,
    get_int,
    get_list,
    get_str,
    malformed,
)
from nimbus.services.bedrock.catalog import FoundationModel

_KEYS = frozenset({"prompt", "max_gen_len", "temperature", "top_p", "images"})
_TURN = re.compile(
    r"<\|start_header_id\|>(system|user|assistant)<\|end_header_id\|>(.*?)(?:<\|eot_id\|>|$)", re.S
)
_INST = re.compile(r"\[INST\](.*?)\[/INST\]", re.S)
_SPECIAL = re.compile(r"<\|[a-z_]+\|>|<<SYS>>|<</SYS>>|<s>|</s>")
_REASON = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


def read_prompt(prompt: str) -> tuple[list[str], list[dict]]:
    """System texts and Converse messages from a Llama prompt."""
    turns = [(role, text.strip()) for role, text in _TURN.findall(prompt)]
    if not turns:
        turns = [("user", text.strip()) for text in _INST.findall(prompt)]
    if not turns:
        turns = [("user", _SPECIAL.sub("", prompt).strip())]
    system = [text for role, text in turns if role == "system" and text]
    messages = [
        {"role": role, "content": [{"text": text}]}
        for role, text in turns
        if role != "system" and text
    ]
    return system, messages


class LlamaCodec:
    def parse(self, body: Body, model: FoundationModel) -> ChatRequest:
        check_keys(body, "#", ("prompt",), _KEYS)
        prompt = get_str(body, "prompt", "#") or ""
        if not prompt.strip():
            raise malformed("#/prompt: expected minLength: 1, actual: 0")
        limit = get_int(body, "max_gen_len", "#", 1, model.max_output_tokens)
        system, messages = read_prompt(prompt)
        if not messages:
            messages = [{"role": "user", "content": [{"text": prompt}]}]
        images = get_list(body, "images", "#")
        if images and "IMAGE" not in model.input_modalities:
            raise malformed("#: extraneous key [images] is not permitted")
        for index, data in enumerate(images):
            picture = {"format": "png", "source": {"bytes": b64decode(data, f"#/images/{index}")}}
            messages[-1]["content"].append({"image": picture})
        return ChatRequest(
            model_id=model.model_id,
            messages=messages,
            system=system,
            max_tokens=model.default_max_tokens if limit is None else limit,
            temperature=get_float(body, "temperature", "#", 0.0, 1.0),
            top_p=get_float(body, "top_p", "#", 0.0, 1.0),
        )

    def response(self, result: ChatResult, model: FoundationModel, request_id: str) -> Body:
        return {
            "generation": result.text,
            "prompt_token_count": result.input_tokens,
            "generation_token_count": result.output_tokens,
            "stop_reason": _REASON.get(result.stop_reason, "stop"),
        }

    def stream_start(
        self, model: FoundationModel, request_id: str, input_tokens: int
    ) -> list[Body]:
        self._input_tokens: int | None = input_tokens
        return []

    def stream_delta(self, text: str, output_tokens: int) -> Body:
        chunk = {
            "generation": text,
            "prompt_token_count": self._input_tokens,
            "generation_token_count": output_tokens,
            "stop_reason": None,
        }
        self._input_tokens = None
        return chunk

    def stream_end(self, result: ChatResult, metrics: Body) -> list[Body]:
        return [
            {
                "generation": "",
                "prompt_token_count": None,
                "generation_token_count": result.output_tokens,
                "stop_reason": _REASON.get(result.stop_reason, "stop"),
                "amazon-bedrock-invocationMetrics": metrics,
            }
        ]
