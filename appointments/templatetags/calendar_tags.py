"""The calendar's template filters."""

from __future__ import annotations

from datetime import datetime, time

from django import template

from practice.models import Practice

from ..clock import practice_clock

register = template.Library()


@register.filter
def clock(moment: time | datetime | None, practice: Practice) -> str:
    """``moment`` as the practice writes a time of day: "14:30" or "2:30 PM"."""
    return practice_clock(practice, moment)
