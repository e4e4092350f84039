"""The ``day`` filter prints what ``date:"j M Y"`` printed, from a cache of labels."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime

from django.template import Context, Template
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from practice.templatetags.practice_tags import day

OLD = '{{ value|date:"j M Y" }}'
NEW = "{{ value|day }}"


def date_filter(value, _format) -> str:
    """What the templates printed before: the date filter, which a template gives the
    moment already in the current time zone."""
    return Template(OLD).render(Context({"value": value}))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_a_date_prints_as_the_date_filter_does(value):
    assert day(value) == date_filter(value, "j M Y")


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["Pacific/Auckland", "America/New_York", "UTC"]),
)
def test_a_moment_prints_as_its_day_in_the_practice_time_zone(value, zone):
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        assert day(value) == date_filter(value, "j M Y")
        assert Template(NEW).render(Context({"value": value})) == date_filter(value, "j M Y")


def test_late_evening_in_new_york_is_already_tomorrow_in_utc():
    moment = datetime(2026, 11, 3, 2, 30, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert day(moment) == "2 Nov 2026"
    with timezone.override(zoneinfo.ZoneInfo("Pacific/Auckland")):
        assert day(moment) == "3 Nov 2026"


def test_nothing_prints_as_nothing():
    assert day(None) == ""


def test_the_label_follows_the_language():
    with translation.override("de"):
        assert day(date(2026, 3, 3)) == date_filter(date(2026, 3, 3), "j M Y")
    assert day(date(2026, 3, 3)) == "3 Mar 2026"
