"""AutoPay's pace: at most ``AUTOPAY_CHARGES_PER_SECOND`` charges sent to Stripe per second,
across every worker on every machine.

Stripe limits the requests a platform makes (100 a second in live mode, counting those
made for connected accounts), and the rest of the app (Pay now, checkout, webhooks'
re-reads) shares that allowance, so the nightly charges keep well under it. The limit is
shared through Redis, which every worker already reaches: one key holds the next free
slot, and each charge takes the slot after it in one atomic step (a Lua script using
Redis's own clock, so workers on machines whose clocks differ still agree), then sleeps
until its slot. So charges go out evenly spaced, 1 / rate seconds apart, however many
workers take them; with a backlog each worker simply waits its turn.
"""

from __future__ import annotations

import functools
import time

import redis
from django.conf import settings

KEY = "practica:autopay:next-slot"

# Reserve the next slot: returns [slot, now] in microseconds of Redis's clock.
_RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000000 + tonumber(now[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < t then slot = t end
redis.call('SET', KEYS[1], string.format('%d', slot + tonumber(ARGV[1])), 'PX', tonumber(ARGV[2]))
return {slot, t}
"""


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def charges_per_second() -> float:
    rate = float(settings.AUTOPAY_CHARGES_PER_SECOND)
    if rate <= 0:
        raise ValueError("AUTOPAY_CHARGES_PER_SECOND must be above 0.")
    return rate


def autopay_slot_reserve(*, key: str = KEY) -> tuple[int, int]:
    """Take the next free slot: (the slot, Redis's time now), both in microseconds. The
    caller may send its charge at the slot; the next caller's slot is 1 / rate after it."""
    interval = round(1_000_000 / charges_per_second())
    # The key outlives the last slot by a minute, then goes (an idle limiter holds nothing).
    ttl_ms = interval // 1000 + 60_000
    slot, now = _client(settings.REDIS_URL).eval(_RESERVE, 1, key, interval, ttl_ms)  # type: ignore[misc]
    return int(slot), int(now)


def autopay_rate_wait(*, key: str = KEY) -> float:
    """Wait for this charge's turn; returns the seconds waited."""
    slot, now = autopay_slot_reserve(key=key)
    wait = max(0, slot - now) / 1_000_000
    if wait:
        time.sleep(wait)
    return wait
