"""Two staff pressing "Mark completed" (or "Generate items") at once: one set of items.

Real threads on PostgreSQL, each with its own connection, released together by a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from appointments.models import Appointment
from appointments.services import (
    appointment_cancel,
    appointment_mark_completed,
    appointment_mark_no_show,
    billing_items_generate_for_appointment,
)
from billing.models import BillingItem
from practice.models import AuditLog, FeePolicy
from tests.factories import ClientFactory, ServiceFactory, make_appointment

THREADS = 8

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(action: Callable[[], object]) -> list[BaseException]:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            action()
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.fixture
def group_session(tenant):
    practice = tenant.practice
    people = [ClientFactory(practice=practice) for _ in range(3)]
    services = [
        ServiceFactory(practice=practice, code="IND", price=Decimal("150")),
        ServiceFactory(practice=practice, code="GRP", price=Decimal("40")),
    ]
    return make_appointment(practice, tenant.clinician, tenant.clinician, people, services)


def test_eight_staff_completing_at_once_make_one_set_of_items(tenant, group_session):
    errors = run_at_once(lambda: appointment_mark_completed(appointment=group_session, actor=tenant.clinician))

    assert errors == []
    group_session.refresh_from_db()
    assert group_session.status == Appointment.Status.COMPLETED
    assert BillingItem.objects.filter(appointment=group_session).count() == 6
    assert AuditLog.objects.filter(action="appointment.completed").count() == 1


def test_eight_staff_generating_at_once_make_one_set_of_items(tenant, group_session):
    Appointment.objects.filter(pk=group_session.pk).update(status=Appointment.Status.COMPLETED)

    errors = run_at_once(lambda: billing_items_generate_for_appointment(appointment=group_session, actor=tenant.biller))

    assert errors == []
    assert BillingItem.objects.filter(appointment=group_session).count() == 6
    assert sum(BillingItem.objects.values_list("amount", flat=True)) == Decimal("570")
    assert AuditLog.objects.filter(action="billing_items.generated").count() == 1


def test_completing_and_generating_together_make_one_set_of_items(tenant, group_session):
    calls = iter(range(THREADS))

    def complete_or_generate() -> None:
        if next(calls) % 2:
            billing_items_generate_for_appointment(appointment=group_session, actor=tenant.biller)
        else:
            appointment_mark_completed(appointment=group_session, actor=tenant.clinician)

    errors = run_at_once(complete_or_generate)

    assert errors == []
    assert BillingItem.objects.filter(appointment=group_session).count() == 6


def test_eight_no_shows_at_once_make_one_fee_each(tenant, group_session):
    practice = tenant.practice
    practice.no_show_policy, practice.no_show_fee = FeePolicy.FLAT, Decimal("50")
    practice.save()

    errors = run_at_once(lambda: appointment_mark_no_show(appointment=group_session, actor=tenant.clinician))

    assert errors == []
    assert BillingItem.objects.filter(appointment=group_session, kind=BillingItem.Kind.NO_SHOW_FEE).count() == 3


def test_completing_while_cancelling_leaves_a_consistent_appointment(tenant, group_session):
    calls = iter(range(THREADS))

    def complete_or_cancel() -> None:
        if next(calls) == 0:
            appointment_cancel(appointment=group_session, actor=tenant.admin, late=False)
        else:
            appointment_mark_completed(appointment=group_session, actor=tenant.clinician)

    errors = run_at_once(complete_or_cancel)

    # Whoever came second was refused cleanly; either way the items match the final status.
    assert all(isinstance(e, ValidationError) for e in errors)
    group_session.refresh_from_db()
    items = BillingItem.objects.filter(appointment=group_session).count()
    if group_session.status == Appointment.Status.CANCELLED:
        assert items == 0
    else:
        assert group_session.status == Appointment.Status.COMPLETED
        assert items == 6
