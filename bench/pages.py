"""Page benchmarks. Each takes the Context and returns its figures; add new ones to
``BENCHMARKS`` in bench/run.py (calendar week, clients list, invoices tab, ...)."""

from __future__ import annotations

from django.urls import reverse

from .harness import Context, PageFigures, measure_get


def dashboard(ctx: Context) -> PageFigures:
    """The demo practice's dashboard, as its owner sees it after signing in."""
    return measure_get(ctx.client, reverse("dashboard", kwargs={"practice_slug": ctx.practice.slug}))
