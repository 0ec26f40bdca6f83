"""What a provider knows about the request beyond its parsed parameters."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Principal:
    """Who signed the request. ``admin`` principals skip IAM evaluation."""

    arn: str
    account_id: str
    access_key: str = ""
    admin: bool = True
    # For IAM users / assumed roles: the kind and name the IAM engine resolves policies from.
    kind: str = "root"  # root | user | assumed-role
    name: str = ""
    session_name: str = ""


@dataclass(slots=True)
class RequestContext:
    service: str
    operation: str
    region: str
    account_id: str
    request_id: str
    principal: Principal
    base_url: str  # e.g. http://127.0.0.1:4566, for URLs a provider hands back
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    source_ip: str = ""
    # A provider may set these to shape the response beyond the output shape.
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
