"""What every page of appointments shares."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from practice.types import PracticeRequest


def render_local(
    request: PracticeRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Render with the practice's timezone active, so every time on the page is local."""
    with timezone.override(request.practice.tzinfo):
        return render(request, template, context, status=status)
