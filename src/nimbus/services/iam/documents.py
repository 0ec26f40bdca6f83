"""Policy document validation: JSON + structure, with IAM's MalformedPolicyDocument messages.

Validation happens once, on write; the evaluator (``policies.py``) trusts stored documents.
Messages follow what IAM (and moto) answer so clients that match on them keep working.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from nimbus.aws.errors import AwsError

VERSIONS = ("2008-10-17", "2012-10-17")
TOP_KEYS = {"Version", "Id", "Statement"}
STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
_VENDOR_BAD = re.compile(r"[^a-zA-Z0-9\-.]")

# Quotas on document size (characters, whitespace excluded), as IAM counts them.
INLINE_USER_LIMIT = 2048
INLINE_ROLE_LIMIT = 10240
INLINE_GROUP_LIMIT = 5120
MANAGED_LIMIT = 6144
TRUST_LIMIT = 2048


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message, 400)


def encode_document(text: str) -> str:
    """IAM returns documents URL-encoded; botocore unquotes and json-decodes them."""
    return quote(text, safe="")


def _str_or_list(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_size(text: str, limit: int | None) -> None:
    if limit is None:
        return
    size = sum(1 for ch in text if not ch.isspace())
    if size > limit:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for PolicySize: {limit}", 409)


def _check_action(action: str) -> None:
    parts = action.split(":")
    if len(parts) == 1 and parts[0] != "*":
        raise malformed(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        )
    if len(parts) > 2:
        raise malformed("Actions/Condition can contain only one colon.")
    if parts[0] != "*" and _VENDOR_BAD.search(parts[0]):
        raise malformed(f"Vendor {parts[0]} is not valid")


def _check_resource(resource: str) -> None:
    # IAM accepts "*" or an ARN-like string; a bare word is a resource error.
    if resource == "*" or resource.startswith("arn:"):
        if resource != "*" and len(resource.split(":", 5)) < 6 and "*" not in resource:
            raise malformed(f'Resource {resource} must be in ARN format or "*".')
        return
    raise malformed(f'Resource {resource} must be in ARN format or "*".')


def _check_condition(condition: Any) -> None:
    if not isinstance(condition, dict):
        raise malformed("Syntax errors in policy.")
    for operator, block in condition.items():
        if not isinstance(operator, str) or not isinstance(block, dict):
            raise malformed("Syntax errors in policy.")
        for key, values in block.items():
            for v in _as_list(values):
                if not isinstance(v, str | bool | int | float) or v is None:
                    raise malformed("Syntax errors in policy.")
            if not isinstance(key, str) or not key:
                raise malformed("Syntax errors in policy.")


def _check_statement(st: Any, *, trust: bool) -> None:
    if not isinstance(st, dict) or not set(st) <= STATEMENT_KEYS:
        raise malformed("Syntax errors in policy.")
    if st.get("Effect") not in ("Allow", "Deny"):
        raise malformed("Syntax errors in policy.")
    if "Action" in st and "NotAction" in st:
        raise malformed("Syntax errors in policy.")
    if "Resource" in st and "NotResource" in st:
        raise malformed("Syntax errors in policy.")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in st and not _str_or_list(st[key]):
            raise malformed("Syntax errors in policy.")
    if "Sid" in st and not isinstance(st["Sid"], str):
        raise malformed("Syntax errors in policy.")
    if "Condition" in st:
        _check_condition(st["Condition"])
    actions = st.get("Action", st.get("NotAction"))
    if actions is None or actions == []:
        raise malformed("Policy statement must contain actions.")
    for action in _as_list(actions):
        _check_action(action)
    if trust:
        if "Resource" in st or "NotResource" in st:
            raise malformed("Has prohibited field Resource.")
        if "Principal" not in st and "NotPrincipal" not in st:
            raise malformed("Missing required field Principal")
        return
    if "Principal" in st or "NotPrincipal" in st:
        raise malformed("Policy document should not specify a principal.")
    resources = st.get("Resource", st.get("NotResource"))
    if resources is None or resources == []:
        raise malformed("Policy statement must contain resources.")
    for resource in _as_list(resources):
        _check_resource(resource)


def parse_policy(text: Any, *, trust: bool = False, limit: int | None = None) -> dict[str, Any]:
    """Validate a policy document string; return it parsed. Raises MalformedPolicyDocument."""
    if not isinstance(text, str) or not text.strip():
        raise malformed("Syntax errors in policy.")
    try:
        doc = json.loads(text)
    except ValueError:
        raise malformed("Syntax errors in policy.") from None
    if not isinstance(doc, dict) or not set(doc) <= TOP_KEYS or "Statement" not in doc:
        raise malformed("Syntax errors in policy.")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise malformed("Policy document must be version 2012-10-17 or greater.")
    statements = doc["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise malformed("Syntax errors in policy.")
    for st in statements:
        _check_statement(st, trust=trust)
    sids = [st["Sid"] for st in statements if st.get("Sid")]
    if len(sids) != len(set(sids)):
        raise malformed("Statement IDs (SID) in a single policy must be unique.")
    _check_size(text, limit)
    return doc


def statements_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc.get("Statement", [])
    return [st] if isinstance(st, dict) else list(st)
