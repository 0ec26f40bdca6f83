"""``nimbus up`` hook (and the step before ``sam deploy`` on AWS): publish the guardrail and the
prompt templates to Amazon Bedrock and print the template's parameters as ``KEY=VALUE`` lines:

    GuardrailId=<id>
    GuardrailVersion=<n>
    PromptVersionArns=arn:aws:bedrock:...:prompt/<id>:<n>,...

Unchanged definitions create nothing (see bedrock_assets.py). Where Bedrock's guardrails or prompt
management are not offered (an emulator without them) it says so on stderr and prints nothing for
that part: the app then runs without a guardrail and with its bundled, unversioned templates.
Progress goes to stderr; only ``KEY=VALUE`` lines go to stdout.

    python scripts/prepare.py [--prefix genai-patterns]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bedrock_assets

NOT_OFFERED = {"UnrecognizedClientException", "UnsupportedOperation", "UnknownOperationException"}


def not_offered(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in NOT_OFFERED or any(name in str(exc) for name in NOT_OFFERED)


def overrides(prefix: str, bedrock=None, agent=None) -> dict[str, str]:
    bedrock = bedrock or bedrock_assets.client("bedrock")
    agent = agent or bedrock_assets.client("bedrock-agent")
    out: dict[str, str] = {}
    try:
        guardrail_id, version = bedrock_assets.ensure_guardrail(bedrock, f"{prefix}-guardrail")
        out.update(GuardrailId=guardrail_id, GuardrailVersion=version)
    except Exception as exc:  # botocore's ClientError and friends
        if not not_offered(exc):
            raise
        bedrock_assets.log(f"no Bedrock guardrails here ({exc}); the app runs without one")
    try:
        arns = [
            bedrock_assets.ensure_prompt(agent, f"{prefix}-{name}", spec)
            for name, spec in bedrock_assets.templates.load_specs().items()
        ]
        out["PromptVersionArns"] = ",".join(arns)
    except Exception as exc:  # botocore's ClientError and friends
        if not not_offered(exc):
            raise
        bedrock_assets.log(f"no Bedrock prompt management here ({exc}); bundled templates")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("NIMBUS_STACK_NAME") or "genai-patterns"
    parser.add_argument("--prefix", default=default, help=f"name prefix (default {default})")
    args = parser.parse_args(argv)
    for key, value in overrides(args.prefix).items():
        print(f"{key}={value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
