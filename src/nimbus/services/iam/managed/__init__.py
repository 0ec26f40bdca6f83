"""Built-in AWS managed policies (``arn:aws:iam::aws:policy/...``), shipped as JSON data.

SAM templates attach these by ARN (``AWSLambdaBasicExecutionRole``, ``AmazonS3ReadOnlyAccess``),
so they exist in every account. Documents are AWS's own; ``ReadOnlyAccess`` is trimmed to the
services Nimbus emulates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("aws_policies.json")


@dataclass(frozen=True, slots=True)
class AwsManagedPolicy:
    name: str
    path: str
    arn: str
    default_version: str
    created: datetime
    updated: datetime
    description: str
    document: str  # JSON text, as IAM returns it

    @property
    def policy_id(self) -> str:
        # Stable, AWS-shaped id derived from the name (real ids are opaque too).
        import hashlib

        digest = hashlib.sha256(self.name.encode()).hexdigest().upper()
        return "ANPA" + "".join(ch for ch in digest if ch.isalnum())[:17]


@cache
def aws_managed_policies() -> dict[str, AwsManagedPolicy]:
    """ARN -> policy."""
    raw: list[dict[str, Any]] = json.loads(DATA.read_text())
    out = {}
    for p in raw:
        arn = f"arn:aws:iam::aws:policy{p['Path']}{p['PolicyName']}"
        out[arn] = AwsManagedPolicy(
            name=p["PolicyName"],
            path=p["Path"],
            arn=arn,
            default_version=p["DefaultVersionId"],
            created=datetime.fromisoformat(p["CreateDate"]),
            updated=datetime.fromisoformat(p["UpdateDate"]),
            description=p.get("Description", ""),
            document=json.dumps(p["Document"], indent=4),
        )
    return out
