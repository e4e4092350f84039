"""What every benchmark shares: a signed-in client and one way to time a page."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TypedDict

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from practice.models import Practice, User

RUNS = 30
WARMUP = 5


class PageFigures(TypedDict):
    median_ms: float
    queries: int
    runs: int


@dataclass(frozen=True)
class Context:
    """The demo practice and a client signed in as its owner."""

    practice: Practice
    owner: User
    client: Client


def measure_get(client: Client, url: str, *, runs: int = RUNS, warmup: int = WARMUP) -> PageFigures:
    """Median server time of ``runs`` GETs of ``url`` after ``warmup`` untimed ones.

    The time is the whole Django request in this process (middleware, views, queries,
    templates), without a network or a web server in front. The query count is taken on
    every timed request and must not change between them.
    """
    for _ in range(warmup):
        _get_ok(client, url)
    timings: list[float] = []
    counts: set[int] = set()
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            _get_ok(client, url)
            timings.append((time.perf_counter() - started) * 1000)
        counts.add(len(queries))
    if len(counts) != 1:
        raise RuntimeError(f"{url} ran a different number of queries per request: {sorted(counts)}")
    return {
        "median_ms": round(statistics.median(timings), 2),
        "queries": counts.pop(),
        "runs": runs,
    }


def _get_ok(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, not 200")
