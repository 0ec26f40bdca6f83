"""InvokeModel request/response bodies, one module per model family."""

from __future__ import annotations

from nimbus.services.bedrock.bodies.anthropic import AnthropicCodec
from nimbus.services.bedrock.bodies.common import TextCodec
from nimbus.services.bedrock.bodies.llama import LlamaCodec
from nimbus.services.bedrock.bodies.nova import NovaCodec
from nimbus.services.bedrock.bodies.titan import TitanTextCodec

# A fresh codec per request: the streaming ones keep a little state between chunks.
TEXT_CODECS: dict[str, type[TextCodec]] = {
    "anthropic": AnthropicCodec,
    "titan-text": TitanTextCodec,
    "llama": LlamaCodec,
    "nova": NovaCodec,
}
