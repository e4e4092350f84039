"""Repeating appointments: the rule, its occurrences in local wall time, and a series
split when "this and following" occurrences change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Literal

from dateutil import rrule as du_rrule
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from practice.models import Practice

from ..models import Appointment, RecurringSeries

# The frequencies dateutil's rrule() accepts (du_rrule.YEARLY .. du_rrule.SECONDLY).
RRuleFrequency = Literal[0, 1, 2, 3, 4, 5, 6]

MAX_OCCURRENCES = 200

RECURRENCE_NEEDS_END = "Choose an end date or a number of occurrences for a repeating appointment."
RECURRENCE_TOO_LONG = f"A repeating appointment can have at most {MAX_OCCURRENCES} occurrences."


@dataclass(frozen=True)
class Recurrence:
    freq: str  # "weekly" | "monthly"
    interval: int = 1
    until: date | None = None
    count: int | None = None

    def rule_text(self) -> str:
        parts = [f"FREQ={self.freq.upper()}", f"INTERVAL={self.interval}"]
        if self.count:
            parts.append(f"COUNT={self.count}")
        if self.until:
            parts.append(f"UNTIL={self.until:%Y%m%d}T235959")
        return ";".join(parts)


def occurrence_starts(*, practice: Practice, first_start: datetime, recurrence: Recurrence) -> list[datetime]:
    """Aware starts of every occurrence, expanded in local wall time.

    The rule runs on naive local times and each is then placed in the practice's zone,
    so a weekly 9:00 session is at 9:00 on both sides of a DST change.
    """
    if recurrence.freq not in {"weekly", "monthly"}:
        raise ValidationError({"recurrence": "Choose weekly or monthly."})
    if recurrence.interval < 1:
        raise ValidationError({"recurrence": "The interval must be at least 1."})
    if not recurrence.until and not recurrence.count:
        raise ValidationError({"recurrence": RECURRENCE_NEEDS_END})
    tz = practice.tzinfo
    local_first = timezone.localtime(first_start, tz).replace(tzinfo=None)
    if recurrence.until and recurrence.until < local_first.date():
        raise ValidationError({"recurrence": "The end date is before the first appointment."})
    if recurrence.count and recurrence.count > MAX_OCCURRENCES:
        raise ValidationError({"recurrence": RECURRENCE_TOO_LONG})
    # rrule() takes the frequency as a Literal; the annotation keeps the constants' literal types.
    freq: RRuleFrequency = du_rrule.WEEKLY if recurrence.freq == "weekly" else du_rrule.MONTHLY
    until = datetime.combine(recurrence.until, time.max) if recurrence.until else None
    rule = du_rrule.rrule(freq, dtstart=local_first, interval=recurrence.interval, count=recurrence.count, until=until)
    starts: list[datetime] = []
    for local in rule:
        if len(starts) >= MAX_OCCURRENCES:
            raise ValidationError({"recurrence": RECURRENCE_TOO_LONG})
        starts.append(local.replace(tzinfo=tz))
    return starts


def later_in_series(appointment: Appointment) -> QuerySet[Appointment]:
    """The scheduled occurrences of ``appointment``'s series after it: what a "this and
    following" edit changes along with it."""
    return Appointment.objects.filter(
        series_id=appointment.series_id, start__gt=appointment.start, status=Appointment.Status.SCHEDULED
    ).order_by("start", "pk")


def _rule_with(rule: str, **changes: str | None) -> str:
    """``rule`` with some parts replaced (a value) or dropped (None); order kept."""
    parts = [p.split("=", 1) for p in rule.split(";") if "=" in p]
    out = []
    for key, value in parts:
        if key in changes:
            if changes[key] is not None:
                out.append(f"{key}={changes[key]}")
        else:
            out.append(f"{key}={value}")
    return ";".join(out)


def split_series(*, edited: Appointment, moved: list[Appointment], tz: tzinfo) -> RecurringSeries:
    """Give the edited occurrence and the later ones a series of their own, starting at the
    edited occurrence's new local start with the old rule; the old series keeps the earlier
    ones. A COUNT becomes the number of occurrences each series now holds, and the old
    series' UNTIL ends at its last occurrence, so neither rule claims the other's dates."""
    if edited.series_id is None:
        raise ValueError("Only an occurrence of a series can split it.")
    old = RecurringSeries.objects.select_for_update().get(pk=edited.series_id)
    rule_parts = dict(p.split("=", 1) for p in old.rrule.split(";") if "=" in p)
    new_rule = _rule_with(old.rrule, COUNT=str(len(moved))) if "COUNT" in rule_parts else old.rrule
    series = RecurringSeries.objects.create(
        practice=old.practice,
        rrule=new_rule,
        # The local wall time labelled UTC, as appointment_create stores it.
        local_start=timezone.localtime(edited.start, tz).replace(tzinfo=UTC),
        timezone=old.timezone,
    )
    Appointment.objects.filter(pk__in=[a.pk for a in moved]).update(series=series)
    for appointment in moved:
        appointment.series = series
    kept = list(Appointment.objects.filter(series=old).order_by("start").values_list("start", flat=True))
    if not kept:
        old.delete()
        return series
    changes: dict[str, str | None] = {}
    if "COUNT" in rule_parts:
        changes["COUNT"] = str(len(kept))
    if "UNTIL" in rule_parts:
        changes["UNTIL"] = f"{timezone.localtime(kept[-1], tz):%Y%m%d}T235959"
    if changes:
        old.rrule = _rule_with(old.rrule, **changes)
        old.save(update_fields=["rrule"])
    return series
