"""Resource handlers: one small module per service, keyed by CloudFormation resource type."""

from __future__ import annotations

from nimbus.services.cloudformation.resources.base import Handler

_MODULES = (
    "iam",
    "s3",
    "dynamodb",
    "logs",
    "lambda_",
    "lambda_layers",
    "apigatewayv2",
    "events",
    "sagemaker",
    "bedrock",
)


def handlers() -> dict[str, Handler]:
    """Resource type -> handler, from every module's ``HANDLERS``."""
    import importlib

    out: dict[str, Handler] = {}
    for name in _MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for handler in module.HANDLERS:
            out[handler.type] = handler
    return out
