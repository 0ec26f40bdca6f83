"""The foundation models Nimbus serves: ids, providers, body families, modalities, limits.

``family`` picks the InvokeModel body codec (``anthropic``, ``titan-text``, ``titan-embed``,
``llama``, ``nova``); Converse works for every text family. Cross-region inference profile ids
(``us.anthropic...``) and foundation-model ARNs resolve to the same entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FoundationModel:
    model_id: str
    name: str
    provider: str
    family: str
    input_modalities: tuple[str, ...] = ("TEXT",)
    output_modalities: tuple[str, ...] = ("TEXT",)
    streaming: bool = True
    customizations: tuple[str, ...] = ()
    inference_types: tuple[str, ...] = ("ON_DEMAND",)
    max_output_tokens: int = 4096  # the request limit AWS enforces
    default_max_tokens: int = 512  # what a request without a limit gets
    embedding_dimensions: tuple[int, ...] = field(default=())

    @property
    def is_embedding(self) -> bool:
        return "EMBEDDING" in self.output_modalities

    def arn(self, region: str) -> str:
        return f"arn:aws:bedrock:{region}::foundation-model/{self.model_id}"


def _claude(model_id: str, name: str, max_out: int, *, images: bool = True) -> FoundationModel:
    return FoundationModel(
        model_id,
        name,
        "Anthropic",
        "anthropic",
        input_modalities=("TEXT", "IMAGE") if images else ("TEXT",),
        max_output_tokens=max_out,
        default_max_tokens=max_out,
    )


def _llama(model_id: str, name: str, *, images: bool = False) -> FoundationModel:
    return FoundationModel(
        model_id,
        name,
        "Meta",
        "llama",
        input_modalities=("TEXT", "IMAGE") if images else ("TEXT",),
        max_output_tokens=2048,
        default_max_tokens=512,
    )


def _nova(model_id: str, name: str, *, images: bool = True) -> FoundationModel:
    return FoundationModel(
        model_id,
        name,
        "Amazon",
        "nova",
        input_modalities=("TEXT", "IMAGE") if images else ("TEXT",),
        max_output_tokens=10000,
        default_max_tokens=5000,
    )


MODELS: tuple[FoundationModel, ...] = (
    _claude("anthropic.claude-3-sonnet-20240229-v1:0", "Claude 3 Sonnet", 4096),
    _claude("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku", 4096),
    _claude("anthropic.claude-3-opus-20240229-v1:0", "Claude 3 Opus", 4096),
    _claude("anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude 3.5 Sonnet", 8192),
    _claude("anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude 3.5 Sonnet v2", 8192),
    _claude("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku", 8192, images=False),
    _claude("anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude 3.7 Sonnet", 64000),
    _claude("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", 64000),
    FoundationModel(
        "amazon.titan-text-express-v1",
        "Titan Text G1 - Express",
        "Amazon",
        "titan-text",
        customizations=("FINE_TUNING", "CONTINUED_PRE_TRAINING"),
        max_output_tokens=8192,
        default_max_tokens=512,
    ),
    FoundationModel(
        "amazon.titan-text-lite-v1",
        "Titan Text G1 - Lite",
        "Amazon",
        "titan-text",
        customizations=("FINE_TUNING", "CONTINUED_PRE_TRAINING"),
        max_output_tokens=4096,
        default_max_tokens=512,
    ),
    FoundationModel(
        "amazon.titan-text-premier-v1:0",
        "Titan Text G1 - Premier",
        "Amazon",
        "titan-text",
        max_output_tokens=3072,
        default_max_tokens=512,
    ),
    FoundationModel(
        "amazon.titan-embed-text-v1",
        "Titan Embeddings G1 - Text",
        "Amazon",
        "titan-embed",
        output_modalities=("EMBEDDING",),
        streaming=False,
        embedding_dimensions=(1536,),
    ),
    FoundationModel(
        "amazon.titan-embed-text-v2:0",
        "Titan Text Embeddings V2",
        "Amazon",
        "titan-embed",
        output_modalities=("EMBEDDING",),
        streaming=False,
        embedding_dimensions=(1024, 512, 256),
    ),
    _nova("amazon.nova-micro-v1:0", "Nova Micro", images=False),
    _nova("amazon.nova-lite-v1:0", "Nova Lite"),
    _nova("amazon.nova-pro-v1:0", "Nova Pro"),
    _llama("meta.llama3-8b-instruct-v1:0", "Llama 3 8B Instruct"),
    _llama("meta.llama3-70b-instruct-v1:0", "Llama 3 70B Instruct"),
    _llama("meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B Instruct"),
    _llama("meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B Instruct"),
    _llama("meta.llama3-2-1b-instruct-v1:0", "Llama 3.2 1B Instruct"),
    _llama("meta.llama3-2-3b-instruct-v1:0", "Llama 3.2 3B Instruct"),
    _llama("meta.llama3-2-11b-instruct-v1:0", "Llama 3.2 11B Vision Instruct", images=True),
    _llama("meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B Instruct"),
)

BY_ID: dict[str, FoundationModel] = {m.model_id: m for m in MODELS}

# Inference profiles prefix a geography: us.anthropic.claude-3-haiku-20240307-v1:0
_PROFILE = re.compile(r"^(us|eu|apac|us-gov|ca|jp|au|global)\.(.+)$")
_FM_ARN = re.compile(r"^arn:aws(?:-[a-z-]+)?:bedrock:[a-z0-9-]*::foundation-model/(.+)$")
_PROFILE_ARN = re.compile(
    r"^arn:aws(?:-[a-z-]+)?:bedrock:[a-z0-9-]*:\d{12}:inference-profile/(.+)$"
)

FAMILY_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("anthropic.", "anthropic"),
    ("amazon.titan-embed", "titan-embed"),
    ("amazon.titan-text", "titan-text"),
    ("amazon.nova", "nova"),
    ("meta.", "llama"),
)


def base_model_id(model_id: str) -> str:
    """``arn:...:foundation-model/x``, ``us.x`` and inference-profile ARNs -> ``x``."""
    found = _FM_ARN.match(model_id) or _PROFILE_ARN.match(model_id)
    if found:
        model_id = found.group(1)
    profile = _PROFILE.match(model_id)
    if profile and profile.group(2) in BY_ID:
        return profile.group(2)
    return model_id


def lookup(model_id: str) -> FoundationModel | None:
    return BY_ID.get(base_model_id(model_id))


def family_of(model_id: str) -> str | None:
    """The body family of a model id Nimbus has no catalog entry for (configured ones)."""
    base = base_model_id(model_id)
    return next((f for prefix, f in FAMILY_BY_PREFIX if base.startswith(prefix)), None)


def summary(model: FoundationModel, region: str) -> dict[str, object]:
    return {
        "modelArn": model.arn(region),
        "modelId": model.model_id,
        "modelName": model.name,
        "providerName": model.provider,
        "inputModalities": list(model.input_modalities),
        "outputModalities": list(model.output_modalities),
        "responseStreamingSupported": model.streaming,
        "customizationsSupported": list(model.customizations),
        "inferenceTypesSupported": list(model.inference_types),
        "modelLifecycle": {"status": "ACTIVE"},
    }
