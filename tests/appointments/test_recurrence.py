"""Repeating appointments: expanded in the practice's local time, edited one or many at a time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment, RecurringSeries
from appointments.services import (
    EDIT_ONLY_SCHEDULED,
    Recurrence,
    appointment_create,
    appointment_mark_completed,
    appointment_update,
    occurrence_starts,
)
from tests.factories import ClientFactory, ServiceFactory

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def client_a(practice):
    return ClientFactory(practice=practice)


@pytest.fixture
def therapy(practice):
    return ServiceFactory(practice=practice, code="IND", price=Decimal("150"))


def local(value: datetime) -> datetime:
    return timezone.localtime(value, NEW_YORK)


def create_series(tenant, client, service, first: datetime, recurrence: Recurrence) -> list[Appointment]:
    return appointment_create(
        practice=tenant.practice,
        actor=tenant.admin,
        clinician=tenant.clinician,
        clients=[client],
        services=[service],
        start=first,
        duration_minutes=50,
        recurrence=recurrence,
    )


def test_weekly_nine_oclock_stays_at_nine_across_the_dst_change(tenant, practice, client_a, therapy):
    # Given a weekly 9:00 session in New York that starts before clocks go back (1 November 2026)
    first = datetime(2026, 10, 20, 9, 0, tzinfo=NEW_YORK)

    occurrences = create_series(tenant, client_a, therapy, first, Recurrence(freq="weekly", count=4))

    stored = list(Appointment.objects.filter(series=occurrences[0].series).order_by("start"))
    assert [local(a.start).date() for a in stored] == [
        date(2026, 10, 20),
        date(2026, 10, 27),
        date(2026, 11, 3),
        date(2026, 11, 10),
    ]
    assert {local(a.start).time() for a in stored} == {time(9, 0)}
    assert [a.start.astimezone(ZoneInfo("UTC")).hour for a in stored] == [13, 13, 14, 14]
    assert {a.duration_minutes for a in stored} == {50}
    series = RecurringSeries.objects.get()
    assert series.rrule == "FREQ=WEEKLY;INTERVAL=1;COUNT=4"
    assert series.timezone == "America/New_York"
    assert (series.local_start.hour, series.local_start.minute) == (9, 0)


def test_spring_forward_keeps_local_time_too(tenant, practice, client_a, therapy):
    # DST starts 8 March 2026 in New York.
    occurrences = create_series(
        tenant, client_a, therapy, datetime(2026, 3, 2, 17, 30, tzinfo=NEW_YORK), Recurrence("weekly", count=2)
    )
    assert [local(a.start).time() for a in occurrences] == [time(17, 30), time(17, 30)]
    assert [a.start.astimezone(ZoneInfo("UTC")).hour for a in occurrences] == [22, 21]


def test_every_two_weeks(tenant, practice, client_a, therapy):
    occurrences = create_series(
        tenant,
        client_a,
        therapy,
        datetime(2027, 1, 4, 14, 0, tzinfo=NEW_YORK),
        Recurrence(freq="weekly", interval=2, count=3),
    )
    assert [local(a.start).date() for a in occurrences] == [date(2027, 1, 4), date(2027, 1, 18), date(2027, 2, 1)]


def test_monthly(tenant, practice, client_a, therapy):
    occurrences = create_series(
        tenant, client_a, therapy, datetime(2027, 1, 15, 11, 0, tzinfo=NEW_YORK), Recurrence("monthly", count=4)
    )
    assert [local(a.start).date() for a in occurrences] == [
        date(2027, 1, 15),
        date(2027, 2, 15),
        date(2027, 3, 15),
        date(2027, 4, 15),
    ]
    assert {local(a.start).time() for a in occurrences} == {time(11, 0)}


def test_until_a_date_includes_that_day(tenant, practice, client_a, therapy):
    occurrences = create_series(
        tenant,
        client_a,
        therapy,
        datetime(2027, 1, 5, 18, 0, tzinfo=NEW_YORK),
        Recurrence(freq="weekly", until=date(2027, 1, 26)),
    )
    assert [local(a.start).date() for a in occurrences] == [
        date(2027, 1, 5),
        date(2027, 1, 12),
        date(2027, 1, 19),
        date(2027, 1, 26),
    ]
    assert RecurringSeries.objects.get().rrule == "FREQ=WEEKLY;INTERVAL=1;UNTIL=20270126T235959"


def test_until_before_the_first_occurrence_is_refused(practice):
    with pytest.raises(ValidationError):
        occurrence_starts(
            practice=practice,
            first_start=datetime(2027, 1, 5, 9, tzinfo=NEW_YORK),
            recurrence=Recurrence("weekly", until=date(2027, 1, 1)),
        )


def test_expansion_uses_the_practice_zone_not_the_callers(practice):
    # The same instant given in UTC expands in New York wall time.
    first = datetime(2026, 10, 27, 13, 0, tzinfo=ZoneInfo("UTC"))  # 9:00 EDT
    starts = occurrence_starts(practice=practice, first_start=first, recurrence=Recurrence("weekly", count=2))
    assert [local(s).time() for s in starts] == [time(9), time(9)]


def test_this_and_following_moves_later_scheduled_occurrences(tenant, practice, client_a, therapy):
    occurrences = create_series(
        tenant, client_a, therapy, datetime(2027, 2, 1, 9, 0, tzinfo=NEW_YORK), Recurrence("weekly", count=6)
    )
    third = occurrences[2]

    # When the third is moved to 15:30 (and 60 minutes) "this and following"
    appointment_update(
        appointment=third,
        actor=tenant.admin,
        clinician=tenant.clinician2,
        clients=[client_a],
        services=[therapy],
        start=datetime(2027, 2, 15, 15, 30, tzinfo=NEW_YORK),
        duration_minutes=60,
        location=Appointment.Location.TELEHEALTH,
        scope="following",
    )

    stored = list(Appointment.objects.order_by("start"))
    assert [(local(a.start).date(), local(a.start).time()) for a in stored] == [
        (date(2027, 2, 1), time(9, 0)),
        (date(2027, 2, 8), time(9, 0)),
        (date(2027, 2, 15), time(15, 30)),
        (date(2027, 2, 22), time(15, 30)),
        (date(2027, 3, 1), time(15, 30)),
        (date(2027, 3, 8), time(15, 30)),  # after the 7 March DST change, still 15:30 local
    ]
    assert [a.duration_minutes for a in stored] == [50, 50, 60, 60, 60, 60]
    assert [a.clinician == tenant.clinician2 for a in stored] == [False, False, True, True, True, True]
    # The series is split at the edited occurrence: the first two keep the old series, the
    # moved four form a new one that starts at the new local time and counts only them.
    old_series, new_series = stored[0].series, stored[2].series
    assert {a.series_id for a in stored[:2]} == {old_series.pk}
    assert {a.series_id for a in stored[2:]} == {new_series.pk}
    assert new_series.pk != old_series.pk
    assert (old_series.rrule, new_series.rrule) == (
        "FREQ=WEEKLY;INTERVAL=1;COUNT=2",
        "FREQ=WEEKLY;INTERVAL=1;COUNT=4",
    )
    assert new_series.local_start.replace(tzinfo=None) == datetime(2027, 2, 15, 15, 30)


def test_this_and_following_moving_the_day_shifts_each_later_one(tenant, practice, client_a, therapy):
    occurrences = create_series(
        tenant, client_a, therapy, datetime(2027, 2, 1, 9, 0, tzinfo=NEW_YORK), Recurrence("weekly", count=3)
    )

    appointment_update(
        appointment=occurrences[1],
        actor=tenant.admin,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=datetime(2027, 2, 10, 9, 0, tzinfo=NEW_YORK),
        duration_minutes=50,
        location=Appointment.Location.IN_PERSON,
        scope="following",
    )

    assert [local(a.start).date() for a in Appointment.objects.order_by("start")] == [
        date(2027, 2, 1),
        date(2027, 2, 10),
        date(2027, 2, 17),
    ]


def test_this_and_following_skips_held_occurrences(tenant, practice, client_a, therapy):
    # A series that began in the past: the held (completed) ones stay where they were.
    first = timezone.localtime(timezone.now(), NEW_YORK).replace(hour=9, minute=0, second=0, microsecond=0)
    first = first - timedelta(days=14)
    occurrences = create_series(tenant, client_a, therapy, first, Recurrence("weekly", count=5))
    appointment_mark_completed(appointment=occurrences[1], actor=tenant.clinician)
    held_start = Appointment.objects.get(pk=occurrences[1].pk).start

    appointment_update(
        appointment=occurrences[0],
        actor=tenant.admin,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=first.replace(hour=11),
        duration_minutes=50,
        location=Appointment.Location.IN_PERSON,
        scope="following",
    )

    times = {a.pk: local(a.start).time() for a in Appointment.objects.all()}
    assert Appointment.objects.get(pk=occurrences[1].pk).start == held_start
    assert [times[a.pk] for a in occurrences] == [time(11), time(9), time(11), time(11), time(11)]


def test_this_occurrence_leaves_the_series(tenant, practice, client_a, therapy):
    occurrences = create_series(
        tenant, client_a, therapy, datetime(2027, 2, 1, 9, 0, tzinfo=NEW_YORK), Recurrence("weekly", count=4)
    )
    second = occurrences[1]
    series_id = second.series_id

    appointment_update(
        appointment=second,
        actor=tenant.admin,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=datetime(2027, 2, 9, 12, 0, tzinfo=NEW_YORK),
        duration_minutes=50,
        location=Appointment.Location.IN_PERSON,
        scope="this",
    )

    second.refresh_from_db()
    assert second.series_id is None
    assert (local(second.start).date(), local(second.start).time()) == (date(2027, 2, 9), time(12, 0))
    rest = Appointment.objects.filter(series_id=series_id).order_by("start")
    assert [(local(a.start).date(), local(a.start).time()) for a in rest] == [
        (date(2027, 2, 1), time(9)),
        (date(2027, 2, 15), time(9)),
        (date(2027, 2, 22), time(9)),
    ]


def test_a_held_occurrence_keeps_its_time(tenant, practice, client_a, therapy):
    first = timezone.localtime(timezone.now(), NEW_YORK).replace(hour=9, minute=0, second=0, microsecond=0)
    first = first - timedelta(days=7)
    occurrences = create_series(tenant, client_a, therapy, first, Recurrence("weekly", count=2))
    appointment_mark_completed(appointment=occurrences[0], actor=tenant.clinician)

    with pytest.raises(ValidationError) as excinfo:
        appointment_update(
            appointment=occurrences[0],
            actor=tenant.admin,
            clinician=tenant.clinician,
            clients=[client_a],
            services=[therapy],
            start=first.replace(hour=10),
            duration_minutes=50,
            location=Appointment.Location.IN_PERSON,
        )
    assert excinfo.value.messages == [EDIT_ONLY_SCHEDULED]


def test_this_and_following_splits_an_until_series_at_the_edited_occurrence(tenant, practice, client_a, therapy):
    # Given a weekly 9:00 series until 1 March (five Mondays)
    occurrences = create_series(
        tenant,
        client_a,
        therapy,
        datetime(2027, 2, 1, 9, 0, tzinfo=NEW_YORK),
        Recurrence("weekly", until=date(2027, 3, 1)),
    )
    old_series = occurrences[0].series

    # When the fourth moves to 11:00 "this and following"
    appointment_update(
        appointment=occurrences[3],
        actor=tenant.admin,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=datetime(2027, 2, 22, 11, 0, tzinfo=NEW_YORK),
        duration_minutes=50,
        location=Appointment.Location.IN_PERSON,
        scope="following",
    )

    # Then the old series ends with the third; the new one runs from 22 February at 11:00
    # to the old end date
    old_series.refresh_from_db()
    moved = list(Appointment.objects.filter(pk__in=[o.pk for o in occurrences[3:]]).order_by("start"))
    new_series = moved[0].series
    assert {a.series_id for a in moved} == {new_series.pk}
    assert Appointment.objects.filter(series=old_series).count() == 3
    assert old_series.rrule == "FREQ=WEEKLY;INTERVAL=1;UNTIL=20270215T235959"
    assert new_series.rrule == "FREQ=WEEKLY;INTERVAL=1;UNTIL=20270301T235959"
    assert new_series.local_start.replace(tzinfo=None) == datetime(2027, 2, 22, 11, 0)
    assert [local(a.start).time() for a in moved] == [time(11), time(11)]


def test_this_and_following_from_the_first_occurrence_replaces_the_series(tenant, practice, client_a, therapy):
    occurrences = create_series(
        tenant, client_a, therapy, datetime(2027, 2, 1, 9, 0, tzinfo=NEW_YORK), Recurrence("weekly", count=3)
    )
    old_id = occurrences[0].series_id

    appointment_update(
        appointment=occurrences[0],
        actor=tenant.admin,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=datetime(2027, 2, 1, 10, 0, tzinfo=NEW_YORK),
        duration_minutes=50,
        location=Appointment.Location.IN_PERSON,
        scope="following",
    )

    series = RecurringSeries.objects.get()
    assert series.pk != old_id
    assert series.rrule == "FREQ=WEEKLY;INTERVAL=1;COUNT=3"
    assert Appointment.objects.filter(series=series).count() == 3
