"""Prepaid packages pay for completed sessions instead of billing items, and DST-safe durations."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from appointments.services import appointment_cancel, appointment_create, appointment_mark_completed
from billing.models import BillingItem, Package, PackageDraw, PackagePurchase
from billing.services import package_sell
from tests.factories import make_appointment, past_start

D = Decimal


def sell(practice, client, service, owner, sessions=2, valid_days=None):
    package = Package.objects.create(
        practice=practice,
        name="Two sessions",
        service=service,
        sessions=sessions,
        price=D("260.00"),
        valid_days=valid_days,
    )
    return package_sell(practice=practice, client=client, package=package, actor=owner)


def test_completed_sessions_draw_the_package_down_then_bill_normally(tenant, practice, therapy, client_a):
    # Given a client who bought a package of 2 sessions of individual therapy
    purchase = sell(practice, client_a, therapy, tenant.owner)
    assert purchase.invoice.total == D("260.000")
    # When three sessions of that service are completed
    for days in (9, 6, 3):
        appointment = make_appointment(
            practice=practice,
            clinician=tenant.clinician,
            clients=[client_a],
            services=[therapy],
            start=past_start(practice, days=days),
            actor=tenant.owner,
        )
        appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    # Then the first two are paid by the package, the third is a normal billing item
    purchase.refresh_from_db()
    assert (purchase.sessions_used, purchase.sessions_left) == (2, 0)
    assert PackageDraw.objects.filter(purchase=purchase).count() == 2
    items = BillingItem.objects.filter(client=client_a, kind=BillingItem.Kind.SESSION)
    assert [i.amount for i in items] == [D("150.000")]


def test_an_expired_package_does_not_pay(tenant, practice, therapy, client_a):
    purchase = sell(practice, client_a, therapy, tenant.owner, valid_days=1)
    appointment = make_appointment(
        practice=practice,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=past_start(practice, days=1),
        actor=tenant.owner,
    )
    PackagePurchase.objects.filter(pk=purchase.pk).update(expires_on=purchase.created_at.date() - timedelta(days=5))
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    purchase.refresh_from_db()
    assert purchase.sessions_used == 0
    assert BillingItem.objects.filter(client=client_a, kind=BillingItem.Kind.SESSION).count() == 1


def test_cancelling_a_completed_session_returns_it_to_the_package(tenant, practice, therapy, client_a):
    purchase = sell(practice, client_a, therapy, tenant.owner)
    appointment = make_appointment(
        practice=practice,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=past_start(practice, days=2),
        actor=tenant.owner,
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)  # twice: one draw
    purchase.refresh_from_db()
    assert purchase.sessions_used == 1
    appointment_cancel(appointment=appointment, actor=tenant.owner, late=False)
    purchase.refresh_from_db()
    assert purchase.sessions_used == 0
    assert not PackageDraw.objects.filter(appointment=appointment).exists()


def test_a_session_across_the_dst_change_lasts_its_duration(tenant, practice, therapy, client_a):
    # Given a 90-minute session starting 01:00 on the night New York falls back
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 1, 1, 0, tzinfo=ny)
    (appointment,) = appointment_create(
        practice=practice,
        actor=tenant.owner,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=start,
        duration_minutes=90,
    )
    # Then it ends 90 elapsed minutes later: at the second 01:30 of the night, in EST
    assert appointment.end - appointment.start == timedelta(minutes=90)
    assert appointment.end.astimezone(ny).strftime("%H:%M %Z") == "01:30 EST"


def test_a_start_in_the_spring_gap_is_saved_not_refused(tenant, practice, therapy, client_a):
    # 02:30 does not exist in New York on 2027-03-14; it is read as the instant zoneinfo names
    start = datetime(2027, 3, 14, 2, 30, tzinfo=ZoneInfo("America/New_York"))
    (appointment,) = appointment_create(
        practice=practice,
        actor=tenant.owner,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=start,
        duration_minutes=50,
    )
    assert appointment.end > appointment.start
    assert appointment.end - appointment.start == timedelta(minutes=50)


def test_a_session_made_free_does_not_use_a_package_session(tenant, practice, therapy, client_a):
    from appointments.models import BillingDetail
    from billing.services import billing_detail_update

    # Given a client with a package, and a session of that service that is made free
    purchase = sell(practice, client_a, therapy, tenant.owner)
    appointment = make_appointment(
        practice=practice,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        start=past_start(practice, days=1),
        actor=tenant.owner,
    )
    detail = BillingDetail.objects.get(appointment=appointment)
    billing_detail_update(detail=detail, actor=tenant.owner, units=D("1"), unit_price=D("0"), tax_percent=D("0"))
    # When it is completed
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    # Then neither an item nor a package session is used
    purchase.refresh_from_db()
    assert purchase.sessions_used == 0
    assert not BillingItem.objects.filter(appointment=appointment).exists()
