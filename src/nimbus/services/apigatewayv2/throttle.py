"""Per-route token buckets for stage throttling (ThrottlingBurstLimit / ThrottlingRateLimit)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    burst: float  # capacity
    rate: float  # tokens added per second
    tokens: float
    stamp: float

    @classmethod
    def full(cls, burst: float, rate: float) -> TokenBucket:
        return cls(burst, rate, burst, time.monotonic())

    def take(self, now: float | None = None) -> bool:
        """Spend one token if there is one; refill by elapsed time first."""
        now = time.monotonic() if now is None else now
        elapsed = now - self.stamp
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def limits(stage: dict, route_key: str) -> tuple[float, float] | None:
    """(burst, rate) for a route: its RouteSettings override the stage's DefaultRouteSettings.
    None when neither sets a limit (AWS's account-level limits are not modelled)."""
    default = stage.get("DefaultRouteSettings") or {}
    specific = (stage.get("RouteSettings") or {}).get(route_key) or {}
    burst = specific.get("ThrottlingBurstLimit", default.get("ThrottlingBurstLimit"))
    rate = specific.get("ThrottlingRateLimit", default.get("ThrottlingRateLimit"))
    if burst is None and rate is None:
        return None
    if burst is None:
        burst = max(1.0, float(rate or 0))
    if rate is None:
        rate = float(burst)
    return float(burst), float(rate)
