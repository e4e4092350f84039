"""Times of day in the practice's clock convention (12- or 24-hour), taken from its locale's
CLDR data through Babel, so a page never hard-codes "H:i"."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_time

from .models import Practice


@lru_cache(maxsize=64)
def uses_24_hour(locale: str) -> bool:
    try:
        pattern = Locale.parse(locale).time_formats["short"].pattern
    except (UnknownLocaleError, ValueError):
        return True
    return "H" in pattern or "k" in pattern


def clock_pattern(practice: Practice) -> str:
    """The short time pattern: 'HH:mm' or 'h:mm a'."""
    return "HH:mm" if uses_24_hour(practice.locale) else "h:mm a"


def practice_clock(practice: Practice, moment: time | datetime | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        # A stored instant (UTC from the database) reads in the practice's own time zone.
        moment = moment.astimezone(practice.tzinfo)
    value = moment.time() if isinstance(moment, datetime) else moment
    return _clock_text(value, clock_pattern(practice))


@lru_cache(maxsize=4096)
def _clock_text(value: time, pattern: str) -> str:
    """A time of day in a pattern, as Babel writes it: a calendar week prints some 150
    times, most of them the same few dozen, and each through Babel costs ~30 µs."""
    return format_time(value, pattern, locale="en")
