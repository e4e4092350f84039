"""The status moves of an appointment, on the model: each legal move works and each
illegal one is refused with the message the clinician reads, leaving it as it was.

No database: the moves change the instance and the services save it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from appointments import models
from appointments.models import Appointment

SCHEDULED = Appointment.Status.SCHEDULED
COMPLETED = Appointment.Status.COMPLETED
NO_SHOW = Appointment.Status.NO_SHOW
CANCELLED = Appointment.Status.CANCELLED
LATE_CANCELLED = Appointment.Status.LATE_CANCELLED
ALL = [SCHEDULED, COMPLETED, NO_SHOW, CANCELLED, LATE_CANCELLED]


def refused(move, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        move()
    assert exc.value.messages == [message]


# --- completed ----------------------------------------------------------------------------


def test_a_scheduled_appointment_is_completed():
    appointment = Appointment(status=SCHEDULED)
    assert appointment.can_complete()
    appointment.mark_completed()
    assert appointment.status == COMPLETED
    assert appointment.completed_at is not None


@pytest.mark.parametrize("status", [COMPLETED, NO_SHOW, CANCELLED, LATE_CANCELLED])
def test_only_a_scheduled_appointment_is_completed(status):
    appointment = Appointment(status=status)
    assert not appointment.can_complete()
    refused(appointment.mark_completed, models.NOT_COMPLETABLE)
    assert (appointment.status, appointment.completed_at) == (status, None)


@pytest.mark.parametrize("status", ALL)
def test_mark_completed_is_refused_unless_scheduled_or_completed_already(status):
    allowed = status in (SCHEDULED, COMPLETED)
    assert Appointment(status=status).complete_refusal() == (None if allowed else models.NOT_COMPLETABLE)


# --- no-show ------------------------------------------------------------------------------


def test_a_scheduled_appointment_is_marked_a_no_show():
    appointment = Appointment(status=SCHEDULED)
    assert appointment.can_mark_no_show()
    appointment.mark_no_show()
    assert appointment.status == NO_SHOW


@pytest.mark.parametrize("status", [COMPLETED, NO_SHOW, CANCELLED, LATE_CANCELLED])
def test_only_a_scheduled_appointment_is_marked_a_no_show(status):
    appointment = Appointment(status=status)
    assert not appointment.can_mark_no_show()
    refused(appointment.mark_no_show, models.NO_SHOW_ONLY_SCHEDULED)
    assert appointment.status == status


@pytest.mark.parametrize("status", ALL)
def test_no_show_is_refused_unless_scheduled_or_a_no_show_already(status):
    allowed = status in (SCHEDULED, NO_SHOW)
    assert Appointment(status=status).no_show_refusal() == (None if allowed else models.NO_SHOW_ONLY_SCHEDULED)


# --- cancelled and late-cancelled ---------------------------------------------------------


@pytest.mark.parametrize("status", [SCHEDULED, COMPLETED, NO_SHOW])
def test_an_appointment_not_cancelled_is_cancelled(status):
    appointment = Appointment(status=status)
    assert appointment.can_cancel()
    appointment.mark_cancelled(late=False)
    assert appointment.status == CANCELLED


def test_a_scheduled_appointment_is_late_cancelled():
    appointment = Appointment(status=SCHEDULED)
    assert appointment.can_late_cancel()
    appointment.mark_cancelled(late=True)
    assert appointment.status == LATE_CANCELLED


@pytest.mark.parametrize("late", [False, True], ids=["cancel", "late-cancel"])
@pytest.mark.parametrize("status", [CANCELLED, LATE_CANCELLED])
def test_a_cancelled_appointment_is_not_cancelled_again(status, late):
    appointment = Appointment(status=status)
    assert not appointment.can_cancel()
    assert not appointment.can_late_cancel()
    refused(lambda: appointment.mark_cancelled(late=late), models.ALREADY_CANCELLED)
    assert appointment.status == status


@pytest.mark.parametrize("status", [COMPLETED, NO_SHOW])
def test_a_held_session_is_not_late_cancelled(status):
    appointment = Appointment(status=status)
    assert not appointment.can_late_cancel()
    refused(lambda: appointment.mark_cancelled(late=True), models.LATE_CANCEL_ONLY_SCHEDULED)
    assert appointment.status == status


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (SCHEDULED, {"complete", "no_show", "cancel", "late_cancel"}),
        (COMPLETED, {"cancel"}),
        (NO_SHOW, {"cancel"}),
        (CANCELLED, set()),
        (LATE_CANCELLED, set()),
    ],
)
def test_what_the_appointment_page_offers(status, offered):
    appointment = Appointment(status=status)
    flags = {
        "complete": appointment.can_complete(),
        "no_show": appointment.can_mark_no_show(),
        "cancel": appointment.can_cancel(),
        "late_cancel": appointment.can_late_cancel(),
    }
    assert {name for name, on in flags.items() if on} == offered
