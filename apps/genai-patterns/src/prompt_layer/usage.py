"""Tokens, latency and an estimated cost per request, and the metrics that carry them.

Costs use Amazon Bedrock's public on-demand prices (USD per million tokens, us-east-1); they are
estimates: check the pricing page for your region and add your models here. Metrics are written
in CloudWatch's embedded metric format (one JSON log line per request): Lambda sends the line
to CloudWatch Logs, which turns it into metrics without any API call from the function.
"""

from __future__ import annotations

import json
import re

# model id -> (input, output) USD per 1,000,000 tokens
PRICES: dict[str, tuple[float, float]] = {
    "anthropic.claude-3-haiku-20240307-v1:0": (0.25, 1.25),
    "anthropic.claude-3-5-haiku-20241022-v1:0": (0.80, 4.00),
    "anthropic.claude-3-sonnet-20240229-v1:0": (3.00, 15.00),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": (3.00, 15.00),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": (3.00, 15.00),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": (3.00, 15.00),
    "amazon.nova-micro-v1:0": (0.035, 0.14),
    "amazon.nova-lite-v1:0": (0.06, 0.24),
    "amazon.nova-pro-v1:0": (0.80, 3.20),
    "amazon.titan-text-lite-v1": (0.15, 0.20),
    "amazon.titan-text-express-v1": (0.20, 0.60),
    "meta.llama3-8b-instruct-v1:0": (0.30, 0.60),
    "meta.llama3-70b-instruct-v1:0": (2.65, 3.50),
    "meta.llama3-1-8b-instruct-v1:0": (0.22, 0.22),
    "meta.llama3-1-70b-instruct-v1:0": (0.72, 0.72),
    "mistral.mistral-7b-instruct-v0:2": (0.15, 0.20),
}
_PROFILE = re.compile(r"^(us|eu|apac|us-gov|global)\.")  # cross-region inference profiles

NAMESPACE = "GenAIPatterns"
METRICS = (
    ("Requests", "Count"),
    ("InputTokens", "Count"),
    ("OutputTokens", "Count"),
    ("Latency", "Milliseconds"),
    ("ModelLatency", "Milliseconds"),
    ("EstimatedCost", "None"),
    ("CacheHits", "Count"),
    ("GuardrailInterventions", "Count"),
    ("Fallbacks", "Count"),
    ("Errors", "Count"),
)


def base_model(model_id: str) -> str:
    return _PROFILE.sub("", model_id.rsplit("/", 1)[-1])


def estimated_cost(model_id: str, input_tokens: int, output_tokens: int) -> float:
    """USD; 0.0 for a model without a known price."""
    price_in, price_out = PRICES.get(base_model(model_id), (0.0, 0.0))
    return round((input_tokens * price_in + output_tokens * price_out) / 1_000_000, 8)


def emf_line(namespace: str, timestamp_ms: int, dimensions: dict[str, str],
             values: dict[str, float]) -> str:  # fmt: skip
    """One embedded-metric-format log line: each metric by every single dimension and overall."""
    names = list(dimensions)
    doc: dict = {
        "_aws": {
            "Timestamp": int(timestamp_ms),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[n] for n in names] + [[]],
                    "Metrics": [{"Name": n, "Unit": u} for n, u in METRICS if n in values],
                }
            ],
        },
        **dimensions,
    }
    doc.update({name: values[name] for name, _ in METRICS if name in values})
    return json.dumps(doc, separators=(",", ":"))
