"""Model ids as clients send them -> the model Nimbus serves, its IAM resources, prompts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock import catalog
from nimbus.services.bedrock.backends.router import ModelRouter
from nimbus.services.bedrock.catalog import FoundationModel

PROMPT_ARN = re.compile(
    r"^arn:aws(?:-[a-z-]+)?:bedrock:[a-z0-9-]+:\d{12}:prompt/[0-9a-zA-Z]{10}(?::\d{1,5})?$"
)
# provider.model[-version][:n]: shaped like a model id, so "unknown", not "invalid"
_WELL_FORMED = re.compile(r"^[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}(?:[.:]?[a-z0-9-]{1,63})*$")
_PROFILE_ID = re.compile(r"^(us|eu|apac|us-gov|ca|jp|au|global)\.")
_PROFILE_ARN = re.compile(r"^arn:aws(?:-[a-z-]+)?:bedrock:[a-z0-9-]*:\d{12}:inference-profile/")


@dataclass(frozen=True, slots=True)
class Target:
    requested: str  # what the client sent (profile ids and ARNs included)
    model: FoundationModel  # the catalog entry, or one made up for a configured model id

    @property
    def model_id(self) -> str:
        return self.model.model_id


def is_prompt(model_id: str) -> bool:
    return model_id.startswith("arn:") and ":prompt/" in model_id


def resolve(model_id: str, router: ModelRouter) -> Target:
    model = catalog.lookup(model_id)
    if model is not None:
        return Target(model_id, model)
    if router.route_for(model_id).explicit:
        # A model id the config sends somewhere (an Ollama model name, a newer Bedrock id).
        base = catalog.base_model_id(model_id)
        family = catalog.family_of(base) or "anthropic"
        embedding = family == "titan-embed"
        made_up = FoundationModel(
            base,
            base,
            "Custom",
            family,
            input_modalities=("TEXT", "IMAGE"),
            output_modalities=("EMBEDDING",) if embedding else ("TEXT",),
            streaming=not embedding,
            max_output_tokens=200_000,
            default_max_tokens=1024,
            embedding_dimensions=(1024, 512, 256, 384, 768, 1536) if embedding else (),
        )
        return Target(model_id, made_up)
    hint = (
        "ListFoundationModels lists the models Nimbus serves; map other ids to a backend "
        "in the bedrock-models config."
    )
    if _WELL_FORMED.match(catalog.base_model_id(model_id)):
        raise AwsError(
            "ResourceNotFoundException",
            "Could not resolve the foundation model from "
            f"the provided model identifier {model_id}. {hint}",
            404,
        )
    raise AwsError("ValidationException", f"The provided model identifier is invalid. {hint}", 400)


def model_arns(model_id: str, region: str, account_id: str) -> list[str]:
    """IAM resources of an invocation: the foundation model, plus the inference profile."""
    if is_prompt(model_id):
        return [model_id]
    base = catalog.base_model_id(model_id)
    arns = [f"arn:aws:bedrock:{region}::foundation-model/{base}"]
    if _PROFILE_ARN.match(model_id):
        arns.insert(0, model_id)
    elif _PROFILE_ID.match(model_id):
        arns.insert(0, f"arn:aws:bedrock:{region}:{account_id}:inference-profile/{model_id}")
    return arns


def guardrail_arn(identifier: str, region: str, account_id: str) -> str:
    if identifier.startswith("arn:"):
        return identifier
    return f"arn:aws:bedrock:{region}:{account_id}:guardrail/{identifier}"
