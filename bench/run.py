"""``make bench``: build a throwaway database with the demo data, time the pages, write
bench/results.json.

    DJANGO_SETTINGS_MODULE=practice.settings python -m bench.run [NAME ...]

The database is the one in DATABASE_URL with ``_bench`` added to its name; it is dropped
and created afresh on every run and dropped again at the end, so the figures never
depend on whatever a developer's own database holds. Naming benchmarks runs only those
and keeps the other figures already in results.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/practica"
BENCH_SUFFIX = "_bench"


def bench_database_url(url: str) -> str:
    """The same server, a database named after the given one with ``_bench`` added."""
    base, sep, rest = url.rpartition("/")
    if not sep or not base:
        raise ValueError(f"DATABASE_URL has no database name: {url!r}")
    name, query_sep, query = rest.partition("?")
    if name.endswith(BENCH_SUFFIX):
        return url
    return f"{base}/{name}{BENCH_SUFFIX}{query_sep}{query}"


def _admin_connection(url: str):  # type: ignore[no-untyped-def]
    import environ
    import psycopg
    from psycopg.conninfo import make_conninfo

    cfg = environ.Env.db_url_config(url)
    params: dict[str, str] = {"dbname": "postgres", "user": cfg.get("USER") or "postgres"}
    for key, param in (("HOST", "host"), ("PORT", "port"), ("PASSWORD", "password")):
        if cfg.get(key):
            params[param] = str(cfg[key])
    return cfg["NAME"], psycopg.connect(make_conninfo(**params), autocommit=True)


def drop_database(url: str) -> None:
    from psycopg import sql

    name, conn = _admin_connection(url)
    if not name.endswith(BENCH_SUFFIX):  # never drop anything but a bench database
        raise ValueError(f"refusing to drop {name!r}: not a {BENCH_SUFFIX} database")
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {pg}"
    )


def cpu_probe_ms() -> float:
    """The median time of a fixed pure-Python loop (no I/O, no database), in ms: how fast
    the machine runs Python at that moment. Shared machines drift by 2x and more within
    a day; a figure is comparable with another only when their probes are close."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        times.append((time.perf_counter() - start) * 1000)
    return round(sorted(times)[2], 1)


def _benchmarks() -> list[Callable[[Any], Any]]:
    from . import autopay_night, billing, documents, exports, invoice_run, lists, pages, reports, webhooks

    # Every benchmark, in the order they run; the function name is the key in results.json.
    return [
        pages.dashboard,
        lists.clients_list,
        lists.calendar_week,
        lists.calendar_day,
        billing.client_billing_tab,
        billing.invoices_tab,
        billing.payments_tab,
        billing.credits_tab,
        billing.invoice_page,
        documents.invoice_pdf,
        exports.export_500_invoices,
        billing.invoice_from_50_items,
        billing.invoice_all_1000_clients,
        billing.ledger_verify_all,
        reports.report_aging,
        reports.report_revenue,
        reports.report_payments,
        reports.report_balances,
        reports.report_aging_csv,
        webhooks.webhook_ingestion,
        invoice_run.invoice_run_500_practices,
        autopay_night.autopay_night_5000_clients,
    ]


def _context():  # type: ignore[no-untyped-def]
    from django.test import Client

    from practice.demo import HARBOUR, load_demo_data
    from practice.middleware import SESSION_LAST_SEEN
    from practice.models import Practice, User

    from .harness import Context

    load_demo_data()
    owner = User.objects.get(email="owner@harbour.example")
    client = Client()
    client.force_login(owner)
    # A signed-in session records "last seen" at most every 30 seconds (PracticeMiddleware):
    # one request in a long run would also write the session and count 3 more queries. The
    # bench times the pages, not that write, so its session was last seen in the future.
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() + 24 * 60 * 60
    session.save()
    return Context(practice=Practice.objects.get(slug=HARBOUR["slug"]), owner=owner, client=client)


def main(argv: list[str]) -> int:
    source_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    url = bench_database_url(source_url)
    from practice.embedded import ensure_database

    drop_database(url)
    ensure_database(url)
    # Settings read DATABASE_URL when Django sets up, so point it at the bench database first.
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")
    try:
        import django
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        ctx = _context()
        chosen = [b for b in _benchmarks() if not argv or b.__name__ in argv]
        unknown = set(argv) - {b.__name__ for b in _benchmarks()}
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        results: dict[str, Any] = json.loads(RESULTS.read_text()) if argv and RESULTS.exists() else {}
        for bench in chosen:
            probe = cpu_probe_ms()
            figures = bench(ctx)
            figures["cpu_probe_ms"] = probe
            results[bench.__name__] = figures
            floor = f"  floor {figures['floor_ms']:.2f} ms (x{figures['ratio']})" if "floor_ms" in figures else ""
            print(
                f"{bench.__name__:<26} {figures['median_ms']:>9.2f} ms median  "
                f"{figures['queries']:>5} queries  ({figures['runs']} runs){floor}  probe {probe} ms",
                flush=True,
            )
        results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        results["machine"] = _machine()
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {RESULTS}")
        connections.close_all()
    finally:
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
