"""Publish the app's guardrail and prompt templates to Amazon Bedrock, once per change.

- The guardrail ``<prefix>-guardrail`` from ``scripts/guardrail.json`` (CreateGuardrail or
  UpdateGuardrail, then CreateGuardrailVersion).
- One prompt ``<prefix>-<name>`` per ``src/prompt_layer/prompts/<name>.json`` (CreatePrompt or
  UpdatePrompt, then CreatePromptVersion).

Each version's description ends with ``[sha256:<digest of its definition>]``; a run whose
definitions are unchanged finds those versions and creates nothing, so it is quick and safe to
run before every deploy. boto3 only; AWS_ENDPOINT_URL (when set) points it at Nimbus.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

APP = Path(__file__).resolve().parents[1]
GUARDRAIL_FILE = APP / "scripts" / "guardrail.json"
sys.path.insert(0, str(APP / "src"))

from prompt_layer import templates  # noqa: E402

DESCRIPTION_LIMIT = 200


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def client(name: str):
    import boto3

    return boto3.client(name, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def digest(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def described(text: str, tag: str) -> str:
    """A version description that ends with the definition's digest, within AWS's 200 chars."""
    suffix = f" [{tag}]"
    return text[: DESCRIPTION_LIMIT - len(suffix)] + suffix


def pages(call: Callable[..., dict], key: str, **kwargs) -> Iterator[dict]:
    token = None
    while True:
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        yield from page.get(key) or []
        token = page.get("nextToken")
        if not token:
            return


# ---- the guardrail --------------------------------------------------------------------------


def wait_ready(bedrock, guardrail_id: str, version: str, timeout: float = 120.0) -> None:
    """Guardrails are CREATING/UPDATING/VERSIONING for a moment on AWS."""
    deadline = time.monotonic() + timeout
    while True:
        status = bedrock.get_guardrail(guardrailIdentifier=guardrail_id,
                                       guardrailVersion=version)["status"]  # fmt: skip
        if status == "READY":
            return
        if status == "FAILED" or time.monotonic() > deadline:
            raise RuntimeError(f"guardrail {guardrail_id} version {version} is {status}")
        time.sleep(1.0)


def ensure_guardrail(bedrock, name: str, config: dict | None = None) -> tuple[str, str]:
    """(guardrail id, numbered version) for the definition in guardrail.json."""
    desired = {**(config or json.loads(GUARDRAIL_FILE.read_text(encoding="utf-8"))), "name": name}
    tag = digest(desired)
    found = next(
        (g for g in pages(bedrock.list_guardrails, "guardrails") if g["name"] == name), None
    )
    if found is None:
        guardrail_id = bedrock.create_guardrail(**desired)["guardrailId"]
        log(f"created guardrail {name} ({guardrail_id})")
    else:
        guardrail_id = found["id"]
        versions = pages(bedrock.list_guardrails, "guardrails", guardrailIdentifier=guardrail_id)
        for version in versions:
            if version["version"] != "DRAFT" and tag in (version.get("description") or ""):
                log(f"guardrail {name} unchanged: version {version['version']}")
                return guardrail_id, version["version"]
        bedrock.update_guardrail(guardrailIdentifier=guardrail_id, **desired)
        log(f"updated guardrail {name} ({guardrail_id})")
    wait_ready(bedrock, guardrail_id, "DRAFT")
    version = bedrock.create_guardrail_version(
        guardrailIdentifier=guardrail_id, description=described(desired.get("description", ""), tag)
    )["version"]
    wait_ready(bedrock, guardrail_id, version)
    log(f"guardrail {name}: version {version}")
    return guardrail_id, version


# ---- the prompt templates --------------------------------------------------------------------


def ensure_prompt(agent, name: str, spec: dict) -> str:
    """The version ARN (``...:prompt/ID:N``) of the prompt for this template spec."""
    desired = {
        "name": name,
        "description": spec.get("description", "")[:DESCRIPTION_LIMIT],
        "defaultVariant": templates.VARIANT,
        "variants": [templates.variant_of(spec)],
    }
    tag = digest(desired)
    found = next(
        (p for p in pages(agent.list_prompts, "promptSummaries") if p["name"] == name), None
    )
    if found is None:
        prompt = agent.create_prompt(**desired)
        log(f"created prompt {name} ({prompt['id']})")
    else:
        prompt = found
        versions = pages(agent.list_prompts, "promptSummaries", promptIdentifier=found["id"])
        for version in versions:
            if version["version"] != "DRAFT" and tag in (version.get("description") or ""):
                log(f"prompt {name} unchanged: version {version['version']}")
                return version_arn(version["arn"], version["version"])
        agent.update_prompt(promptIdentifier=found["id"], **desired)
        log(f"updated prompt {name} ({found['id']})")
    made = agent.create_prompt_version(
        promptIdentifier=prompt["id"], description=described(desired["description"], tag)
    )
    log(f"prompt {name}: version {made['version']}")
    return version_arn(made["arn"], made["version"])


def version_arn(arn: str, version: str) -> str:
    base = arn.rsplit(":", 1)[0] if arn.rsplit(":", 1)[-1].isdigit() else arn
    return f"{base}:{version}"


def publish(bedrock, agent, prefix: str) -> dict[str, str]:
    """The parameter overrides for template.yaml."""
    guardrail_id, guardrail_version = ensure_guardrail(bedrock, f"{prefix}-guardrail")
    arns = [ensure_prompt(agent, f"{prefix}-{name}", spec)
            for name, spec in templates.load_specs().items()]  # fmt: skip
    return {
        "GuardrailId": guardrail_id,
        "GuardrailVersion": guardrail_version,
        "PromptVersionArns": ",".join(arns),
    }
