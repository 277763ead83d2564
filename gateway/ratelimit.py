"""Per-client rate limiting: a token bucket per credential (or per address when there is none).

State is per gateway process: behind a load balancer with N replicas a client gets up to N times
the rate unless the balancer keeps it on one replica. Probes and metrics are not limited.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from dataclasses import dataclass

from fastapi import Request

UNLIMITED_PATHS = ("/health/", "/metrics")


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int, clock=time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}

    def take(self, client: str) -> float:
        """0 when the request may go ahead; otherwise the seconds until it may."""
        now = self.clock()
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) > 100_000:  # forget idle clients rather than grow without bound
                self.buckets = {k: b for k, b in self.buckets.items() if now - b.updated < 60}
            bucket = self.buckets[client] = Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


def client_key(request: Request) -> str | None:
    if request.scope["path"].startswith(UNLIMITED_PATHS):
        return None
    credential = request.headers.get("authorization") or request.headers.get("x-api-key")
    if credential:
        return _bucket_name(credential)
    return "a:" + (request.client.host if request.client else "unknown")


@functools.lru_cache(maxsize=10_000)
def _bucket_name(credential: str) -> str:
    """Buckets are named by a digest of the credential, remembered for the most recent 10,000
    (hashing on every request showed in profiles of cached reads)."""
    return "c:" + hashlib.sha256(credential.encode()).hexdigest()[:32]


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
