"""What every benchmark shares: a signed-in client, one way to time a page, and the two
floors each page's time is set beside.

- ``floor_sql_ms``: the SQL the page ran, captured from one request and run again bare
  through the psycopg connection (no ORM, no Django), each result fetched, in a
  transaction rolled back afterwards; what the database itself needs.
- ``floor_view_ms``: the page's own template rendered again with the context of that
  request, its rows already in memory; what turning the rows into HTML needs.

``floor_ms`` is their sum and ``ratio`` is ``median_ms / floor_ms``: how far the page is
from what its queries and its template cost on their own.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict
from unittest import mock

from django.db import connection, transaction
from django.template import Context as TemplateContext
from django.template.base import Template
from django.test import Client
from django.test.utils import CaptureQueriesContext

from practice.middleware import SESSION_LAST_SEEN
from practice.models import Membership, Practice, Role, User

RUNS = 30
WARMUP = 5
# Statements of Django's transaction management, not of the page's reads and writes.
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK")


class PageFigures(TypedDict):
    median_ms: float
    queries: int
    runs: int
    floor_sql_ms: NotRequired[float]
    floor_view_ms: NotRequired[float]
    floor_ms: NotRequired[float]
    ratio: NotRequired[float]
    floor_view_queries: NotRequired[int]


@dataclass(frozen=True)
class Context:
    """The demo practice and a client signed in as its owner."""

    practice: Practice
    owner: User
    client: Client


def measure_get(client: Client, url: str, *, runs: int = RUNS, warmup: int = WARMUP) -> PageFigures:
    """Median server time of ``runs`` GETs of ``url`` after ``warmup`` untimed ones, with
    its two floors.

    The time is the whole Django request in this process (middleware, views, queries,
    templates), without a network or a web server in front. The query count is taken on
    every timed request and must not change between them.
    """
    return measure_gets(client, [url], runs=runs, warmup=warmup)[0]


def owner_client(practice: Practice) -> Client:
    """A client signed in as an owner of ``practice`` and of no other. Pages of two
    practices are timed in turn each with its own owner: one user moving between practices
    has their last practice written on every request (PracticeMiddleware)."""
    email = f"owner@{practice.slug}.bench.test"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, first_name="Bench", last_name="Owner"
    )
    Membership.objects.get_or_create(user=user, practice=practice, defaults={"role": Role.OWNER})
    client = Client()
    client.force_login(user)
    # As bench.run's own client: "last seen" is in the future, so no request writes it.
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() + 24 * 60 * 60
    session.save()
    return client


def measure_gets(
    client: Client | list[Client], urls: list[str], *, runs: int = RUNS, warmup: int = WARMUP
) -> list[PageFigures]:
    """``measure_get`` of each of ``urls``, their requests taken in turn (the first, the
    second, ..., then the first again), so that a page's growth from a small case to a
    big one is measured at the same moment: on a shared machine whose speed drifts over a
    run, timing all of one and then all of the other put the drift into the ratio.
    ``client`` is one client for every URL, or one per URL."""
    clients = client if isinstance(client, list) else [client] * len(urls)
    for _ in range(warmup):
        for each, url in zip(clients, urls, strict=True):
            _get_ok(each, url)
    timings: list[list[float]] = [[] for _ in urls]
    counts: list[set[int]] = [set() for _ in urls]
    for _ in range(runs):
        for n, (each, url) in enumerate(zip(clients, urls, strict=True)):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                _get_ok(each, url)
                timings[n].append((time.perf_counter() - started) * 1000)
            counts[n].add(len(queries))
    found: list[PageFigures] = []
    for each, url, timed, counted in zip(clients, urls, timings, counts, strict=True):
        if len(counted) != 1:
            raise RuntimeError(f"{url} ran a different number of queries per request: {sorted(counted)}")
        figures: PageFigures = {"median_ms": round(statistics.median(timed), 2), "queries": counted.pop(), "runs": runs}
        template, rendering, statements = _capture(each, url)
        sql_ms = sql_floor(statements, runs=runs)
        view_ms, view_queries = _view_floor(template, rendering, runs=runs)
        found.append({**with_floors(figures, sql_ms, view_ms), "floor_view_queries": view_queries})
    return found


def with_floors(figures: PageFigures, sql_ms: float, view_ms: float = 0.0) -> PageFigures:
    floor = sql_ms + view_ms
    return {
        **figures,
        "floor_sql_ms": round(sql_ms, 2),
        "floor_view_ms": round(view_ms, 2),
        "floor_ms": round(floor, 2),
        "ratio": round(figures["median_ms"] / floor, 2) if floor else 0.0,
    }


def sql_floor(statements: list[str], *, runs: int = RUNS, warmup: int = 2) -> float:
    """Median milliseconds to run ``statements`` (as captured, parameters inlined) again
    through the bare psycopg connection, fetching every row, inside a transaction that is
    rolled back each time so the database is left as it was.

    Writes are replayed from the state they were captured in (see ``dry_run_sql``); an
    UPDATE of a row the captured run had just inserted finds no row on replay, so a
    write's floor is, if anything, a little low."""
    body = [s for s in statements if not s.lstrip().upper().startswith(_TRANSACTION_CONTROL)]
    connection.ensure_connection()
    raw = connection.connection
    timings = []
    for n in range(warmup + runs):
        started = time.perf_counter()
        with raw.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                for sql in body:
                    cursor.execute(sql)  # type: ignore[call-overload]
                    if cursor.description is not None:
                        cursor.fetchall()
            finally:
                cursor.execute("ROLLBACK")
        if n >= warmup:
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


class _Undo(Exception):
    pass


def dry_run_sql(work: Callable[[], Any]) -> list[str]:
    """The SQL ``work`` runs, captured in a transaction that is then rolled back, so the
    same statements can be replayed by ``sql_floor`` against the same rows."""
    kept = connection.queries_log
    # Django keeps the last 9,000 queries; Invoice all for 1,000 clients runs more.
    connection.queries_log = deque(maxlen=1_000_000)
    try:
        with CaptureQueriesContext(connection) as queries:
            try:
                with transaction.atomic():
                    work()
                    raise _Undo
            except _Undo:
                pass
        return [q["sql"] for q in queries.captured_queries]
    finally:
        connection.queries_log = kept


@dataclass(frozen=True)
class _Rendering:
    """A page's template context, flattened, and the request it was rendered for (tags
    such as ``{% querystring %}`` read ``context.request``)."""

    values: dict[str, Any]
    request: Any

    def context(self) -> TemplateContext:
        context = TemplateContext(self.values)
        context.request = self.request  # type: ignore[attr-defined]
        return context


def _capture(client: Client, url: str) -> tuple[Template, _Rendering, list[str]]:
    """One more GET of ``url``: the page template, the context it rendered with, and the SQL."""
    captured: dict[str, Any] = {}
    original = Template._render  # type: ignore[attr-defined]

    def record(self: Template, context: TemplateContext) -> Any:
        if "template" not in captured:  # the first one is the page; includes come after
            captured["template"] = self
            captured["context"] = context.flatten()
            captured["request"] = getattr(context, "request", None)
        return original(self, context)

    with CaptureQueriesContext(connection) as queries, mock.patch.object(Template, "_render", record):
        _get_ok(client, url)
    if "template" not in captured:
        raise RuntimeError(f"{url} rendered no template")
    return (
        captured["template"],
        _Rendering(captured["context"], captured["request"]),
        [q["sql"] for q in queries.captured_queries],
    )


def _view_floor(template: Template, rendering: _Rendering, *, runs: int) -> tuple[float, int]:
    """Median milliseconds to render ``template`` from the captured context once its lazy
    rows are loaded (a first render loads them and is not timed)."""
    template.render(rendering.context())
    timings = []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(runs):
            started = time.perf_counter()
            template.render(rendering.context())
            timings.append((time.perf_counter() - started) * 1000)
    # Queries a template makes on its own on every render (a form's choices read through
    # ModelChoiceIterator, a method called from the page) stay in this floor; say how many.
    return statistics.median(timings), len(queries) // runs


def _get_ok(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, not 200")
