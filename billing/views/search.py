"""The header's search box: its results as an htmx listbox under the box, or as a page of
their own when the form is submitted without JavaScript (or with Enter and nothing chosen)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from practice.types import PracticeRequest

from .. import selectors


@require_GET
def search(request: PracticeRequest) -> HttpResponse:
    results = selectors.global_search(request.practice, request.membership, request.GET.get("q", ""))
    context = {"results": results}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "billing/_search_results.html", context)
    return render(request, "billing/search.html", context)
