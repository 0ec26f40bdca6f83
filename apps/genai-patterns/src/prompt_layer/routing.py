"""Which model answers: a routing rule, retries with backoff, and a fallback model.

Rule: the caller may ask for ``small`` or ``large``; otherwise a template may pin a tier; otherwise
a prompt estimated over ``threshold_tokens`` goes to the large model and a short one to the small.
A call that fails with a transient error (throttled, timed out, unavailable) is retried with
exponential backoff and jitter; when the retries run out, or the model is not usable at all
(no access, unknown, failing), the fallback model is tried the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

TRANSIENT = frozenset(
    {
        "ThrottlingException",
        "ModelTimeoutException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
        "ModelStreamErrorException",
    }
)
# Worth another model straight away: retrying the same one would not help.
UNUSABLE = frozenset({"AccessDeniedException", "ResourceNotFoundException", "ModelErrorException"})
TIERS = ("auto", "small", "large")


@dataclass(frozen=True)
class Models:
    small: str
    large: str
    fallback: str
    threshold_tokens: int = 400


@dataclass(frozen=True)
class Route:
    model: str
    tier: str
    reason: str


def estimate_tokens(text: str) -> int:
    """About four characters per token: good enough to route, never used for billing."""
    return max(1, (len(text) + 3) // 4)


def route(
    models: Models, prompt: str, template_tier: str = "auto", requested: str = "auto"
) -> Route:
    if requested in ("small", "large"):
        return Route(getattr(models, requested), requested, "requested")
    if template_tier in ("small", "large"):
        return Route(getattr(models, template_tier), template_tier, "template")
    tokens = estimate_tokens(prompt)
    if tokens > models.threshold_tokens:
        return Route(models.large, "large", f"long prompt (~{tokens} tokens)")
    return Route(models.small, "small", f"short prompt (~{tokens} tokens)")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore error (event-stream errors come lower camel case)."""
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code[:1].upper() + code[1:]


class ModelsFailed(Exception):
    """Every model in the chain failed; ``tries`` says how."""

    def __init__(self, tries: list[dict]) -> None:
        super().__init__(f"all models failed: {tries}")
        self.tries = tries


@dataclass
class Retrier:
    attempts: int = 3  # per model
    base_delay: float = 0.2  # seconds; doubles each retry
    max_delay: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        """Full jitter backoff: a random part of base * 2^attempt, capped."""
        return min(self.max_delay, self.base_delay * (2**attempt)) * (0.5 + self.jitter() / 2)

    def run(self, models: list[str], call: Callable[[str], T]) -> tuple[T, str, list[dict]]:
        """call(model) for the first model that answers: (result, model, failed tries)."""
        tries: list[dict] = []
        for model in dict.fromkeys(models):  # in order, without repeats
            for attempt in range(self.attempts):
                try:
                    return call(model), model, tries
                except Exception as exc:
                    code = error_code(exc)
                    if code not in TRANSIENT and code not in UNUSABLE:
                        raise
                    tries.append({"model": model, "error": code})
                    if code in UNUSABLE:
                        break
                    if attempt + 1 < self.attempts:
                        self.sleep(self.delay(attempt))
        raise ModelsFailed(tries)
