"""Completed sessions become billing items: what a biller sees after each step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appointments import services as appt_services
from appointments.models import Appointment, Attendee, BillingDetail, RecurringSeries, Service
from appointments.services import (
    CANCEL_INVOICED,
    DURATION_POSITIVE,
    NEEDS_CLIENT,
    NOT_STARTED,
    RECURRENCE_NEEDS_END,
    WRONG_PRACTICE,
    Recurrence,
    appointment_cancel,
    appointment_create,
    appointment_mark_completed,
    appointment_mark_no_show,
    billing_items_generate_for_appointment,
)
from billing.models import BillingItem
from billing.services import billing_detail_update
from practice.models import AuditLog, FeePolicy
from tests.factories import (
    ClientFactory,
    ServiceFactory,
    TaxRateFactory,
    future_start,
    invoice_for,
    make_appointment,
    past_start,
)

D = Decimal


def items_seen(appointment):
    """(client, service code or kind, units, unit price, net, tax, amount) per item, as a biller reads them."""
    return sorted(
        (
            i.client.last_name,
            i.service.code if i.service else i.kind,
            i.units,
            i.unit_price,
            i.net,
            i.tax,
            i.amount,
        )
        for i in BillingItem.objects.filter(appointment=appointment).select_related("client", "service")
    )


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Appointment, Attendee, BillingDetail, RecurringSeries, BillingItem)
    }


# --- completing ---------------------------------------------------------------------


def test_completing_a_self_pay_session_bills_the_price(tenant, practice, client_a, therapy):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    assert items_seen(appointment) == []

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED
    assert items_seen(appointment) == [("Aho", "IND", D("1"), D("150"), D("150"), D("0"), D("150"))]
    item = BillingItem.objects.get(appointment=appointment)
    assert item.currency == "USD"
    assert item.invoice is None
    assert item.date == timezone.localtime(appointment.start, practice.tzinfo).date()
    assert AuditLog.objects.filter(action="appointment.completed", object_id=str(appointment.pk)).count() == 1


def test_fixed_copay_bills_only_the_copay(tenant, practice, client_a):
    service = ServiceFactory(
        practice=practice,
        code="CPF",
        price=D("180.00"),
        payment_type=Service.PaymentType.COPAY,
        copay_kind=Service.CopayKind.FIXED,
        copay_amount=D("25.00"),
    )
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [service])

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    assert items_seen(appointment) == [("Aho", "CPF", D("1"), D("25"), D("25"), D("0"), D("25"))]


def test_percent_copay_bills_the_rounded_share(tenant, practice, client_a):
    service = ServiceFactory(
        practice=practice,
        code="CPP",
        price=D("133.35"),
        payment_type=Service.PaymentType.COPAY,
        copay_kind=Service.CopayKind.PERCENT,
        copay_percent=D("20"),
    )
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [service])

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    # 20% of 133.35 is 26.67 exactly; 26.67 is what the client owes.
    assert items_seen(appointment) == [("Aho", "CPP", D("1"), D("26.67"), D("26.67"), D("0"), D("26.67"))]


def test_insurance_service_bills_the_client_nothing(tenant, practice, client_a, therapy):
    insured = ServiceFactory(practice=practice, code="INS", price=D("200"), payment_type=Service.PaymentType.INSURANCE)
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [insured, therapy])

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    assert [row[1] for row in items_seen(appointment)] == ["IND"]
    insurance_only = make_appointment(
        practice, tenant.clinician, tenant.clinician, [client_a], [insured], start=past_start(practice, days=3)
    )
    appointment_mark_completed(appointment=insurance_only, actor=tenant.clinician)
    assert items_seen(insurance_only) == []


def test_tax_is_added_on_top_of_the_price(tenant, practice, client_a):
    rate = TaxRateFactory(practice=practice, name="Sales tax 8.25%", percent=D("8.25"))
    service = ServiceFactory(practice=practice, code="TAX", price=D("99.99"), tax_rate=rate)
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [service])

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    # 99.99 x 8.25% = 8.249175 -> 8.25 (half-up on the line)
    assert items_seen(appointment) == [("Aho", "TAX", D("1"), D("99.99"), D("99.99"), D("8.25"), D("108.24"))]


def test_gst_inclusive_price_has_its_tax_extracted(tenant, practice, client_a):
    practice.currency = "NZD"
    practice.timezone = "Pacific/Auckland"
    practice.prices_include_tax = True
    practice.save()
    gst = TaxRateFactory(practice=practice, name="GST 15%", percent=D("15"), is_default=True)
    service = ServiceFactory(practice=practice, code="GST", price=D("115.00"), tax_rate=gst)
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [service])

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    assert items_seen(appointment) == [("Aho", "GST", D("1"), D("115"), D("100"), D("15"), D("115"))]
    assert BillingItem.objects.get(appointment=appointment).currency == "NZD"


def test_completing_again_and_generating_twice_add_nothing(tenant, practice, client_a, therapy):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    first = items_seen(appointment)

    again = appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    generated = billing_items_generate_for_appointment(appointment=appointment, actor=tenant.biller)
    generated_again = billing_items_generate_for_appointment(appointment=appointment, actor=tenant.biller)

    assert again == [] and generated == [] and generated_again == []
    assert items_seen(appointment) == first
    assert BillingItem.objects.count() == 1
    assert AuditLog.objects.filter(action="appointment.completed").count() == 1


def test_generate_items_creates_only_what_is_missing(tenant, practice, client_a, therapy):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    BillingItem.objects.filter(appointment=appointment).delete()  # lost, say by an earlier bug

    created = billing_items_generate_for_appointment(appointment=appointment, actor=tenant.biller)

    assert len(created) == 1
    assert items_seen(appointment) == [("Aho", "IND", D("1"), D("150"), D("150"), D("0"), D("150"))]


def test_a_future_appointment_cannot_be_completed(tenant, practice, client_a, therapy):
    appointment = make_appointment(
        practice, tenant.clinician, tenant.clinician, [client_a], [therapy], start=future_start(practice)
    )

    with pytest.raises(ValidationError) as excinfo:
        appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    assert excinfo.value.messages == [NOT_STARTED]
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED
    assert items_seen(appointment) == []


def test_a_scheduled_appointment_is_never_billed(tenant, practice, client_a, therapy):
    past = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    future = make_appointment(
        practice, tenant.clinician, tenant.clinician, [client_a], [therapy], start=future_start(practice)
    )

    assert billing_items_generate_for_appointment(appointment=past, actor=tenant.biller) == []
    assert billing_items_generate_for_appointment(appointment=future, actor=tenant.biller) == []
    assert BillingItem.objects.count() == 0


def test_future_occurrences_of_a_series_are_not_billed(tenant, practice, client_a, therapy):
    occurrences = appointment_create(
        practice=practice,
        actor=tenant.clinician,
        clinician=tenant.clinician,
        clients=[client_a],
        services=[therapy],
        # 15 days back: the occurrences fall 15, 8 and 1 days ago and 6 days ahead, so the
        # split is 3 and 1 at any time of day (from 14 days back, today's depended on the hour).
        start=past_start(practice, days=15),
        duration_minutes=50,
        recurrence=Recurrence(freq="weekly", count=4),
    )
    past = [a for a in occurrences if a.start < timezone.now()]
    future = [a for a in occurrences if a.start > timezone.now()]
    assert len(past) == 3 and len(future) == 1

    for appointment in past:
        appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    with pytest.raises(ValidationError, match="not started"):
        appointment_mark_completed(appointment=future[0], actor=tenant.clinician)
    billing_items_generate_for_appointment(appointment=future[0], actor=tenant.clinician)

    assert BillingItem.objects.count() == 3
    assert not BillingItem.objects.filter(appointment=future[0]).exists()


# --- group sessions --------------------------------------------------------------------


def test_group_session_of_four_with_two_services_bills_eight_items(tenant, practice, therapy):
    group = ServiceFactory(practice=practice, code="GRP", price=D("40.00"))
    people = [ClientFactory(practice=practice, last_name=name) for name in ("Abel", "Bree", "Cole", "Dunn")]
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, people, [group, therapy])

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    seen = items_seen(appointment)
    assert len(seen) == 8
    assert {(row[0], row[1]) for row in seen} == {(p.last_name, c) for p in people for c in ("GRP", "IND")}
    assert sum(row[6] for row in seen) == D("760.00")  # 4 x (40 + 150)


# --- billing details ------------------------------------------------------------------


def test_editing_details_before_invoicing_changes_the_item(tenant, practice, client_a, therapy):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    detail = BillingDetail.objects.get(appointment=appointment, client=client_a, service=therapy)

    billing_detail_update(detail=detail, actor=tenant.biller, units=D("2"), unit_price=D("80.00"), tax_percent=D("10"))

    assert items_seen(appointment) == [("Aho", "IND", D("2"), D("80"), D("160"), D("16"), D("176"))]
    assert AuditLog.objects.filter(action="billing_detail.changed").count() == 1


def test_editing_details_before_completion_is_used_when_completed(tenant, practice, client_a, therapy):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    detail = BillingDetail.objects.get(appointment=appointment)

    billing_detail_update(detail=detail, actor=tenant.biller, units=D("1.5"), unit_price=D("100"), tax_percent=D("0"))
    assert items_seen(appointment) == []
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    assert items_seen(appointment) == [("Aho", "IND", D("1.5"), D("100"), D("150"), D("0"), D("150"))]


def test_editing_details_after_invoicing_leaves_the_item_alone(tenant, practice, client_a, therapy):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    invoice = invoice_for(BillingItem.objects.get(appointment=appointment))
    detail = BillingDetail.objects.get(appointment=appointment)

    billing_detail_update(detail=detail, actor=tenant.biller, units=D("3"), unit_price=D("99"), tax_percent=D("5"))

    assert items_seen(appointment) == [("Aho", "IND", D("1"), D("150"), D("150"), D("0"), D("150"))]
    assert BillingItem.objects.get(appointment=appointment).invoice == invoice
    detail.refresh_from_db()
    assert (detail.units, detail.unit_price) == (D("3"), D("99"))  # the detail itself is recorded


def test_editing_one_attendee_leaves_the_others(tenant, practice, therapy):
    ana, ben = ClientFactory(practice=practice, last_name="Aho"), ClientFactory(practice=practice, last_name="Bell")
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [ana, ben], [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)

    billing_detail_update(
        detail=BillingDetail.objects.get(appointment=appointment, client=ben),
        actor=tenant.biller,
        units=D("1"),
        unit_price=D("60"),
        tax_percent=D("0"),
    )

    assert [(row[0], row[6]) for row in items_seen(appointment)] == [("Aho", D("150")), ("Bell", D("60"))]


def test_raising_a_zero_price_detail_bills_it(tenant, practice, client_a):
    free = ServiceFactory(practice=practice, code="FREE", price=D("0"))
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [free])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    assert items_seen(appointment) == []

    billing_detail_update(
        detail=BillingDetail.objects.get(appointment=appointment),
        actor=tenant.biller,
        units=D("1"),
        unit_price=D("45"),
        tax_percent=D("0"),
    )

    assert items_seen(appointment) == [("Aho", "FREE", D("1"), D("45"), D("45"), D("0"), D("45"))]


@pytest.mark.parametrize(
    ("units", "price", "tax", "field"),
    [
        (D("0"), D("10"), D("0"), "units"),
        (D("1"), D("-1"), D("0"), "unit_price"),
        (D("1"), D("1"), D("101"), "tax_percent"),
    ],
)
def test_bad_billing_details_are_refused(tenant, practice, client_a, therapy, units, price, tax, field):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    detail = BillingDetail.objects.get(appointment=appointment)

    with pytest.raises(ValidationError) as excinfo:
        billing_detail_update(detail=detail, actor=tenant.biller, units=units, unit_price=price, tax_percent=tax)

    assert field in excinfo.value.message_dict
    assert items_seen(appointment) == [("Aho", "IND", D("1"), D("150"), D("150"), D("0"), D("150"))]


# --- no-shows and late cancellations -------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "fee", "expected"),
    [(FeePolicy.FLAT, D("50.00"), [D("50")]), (FeePolicy.FULL, D("0"), [D("150")]), (FeePolicy.NONE, D("0"), [])],
)
def test_no_show_fee_follows_the_policy(tenant, practice, client_a, therapy, policy, fee, expected):
    practice.no_show_policy, practice.no_show_fee = policy, fee
    practice.save()
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])

    appointment_mark_no_show(appointment=appointment, actor=tenant.clinician)
    appointment_mark_no_show(appointment=appointment, actor=tenant.clinician)  # a second click adds nothing

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    items = list(BillingItem.objects.filter(appointment=appointment))
    assert [i.amount for i in items] == expected
    assert all(i.kind == BillingItem.Kind.NO_SHOW_FEE and i.service is None for i in items)
    assert all(i.description == "No-show fee" for i in items)


def test_a_future_appointment_cannot_be_a_no_show(tenant, practice, client_a, therapy):
    practice.no_show_policy, practice.no_show_fee = FeePolicy.FLAT, D("50")
    practice.save()
    appointment = make_appointment(
        practice, tenant.clinician, tenant.clinician, [client_a], [therapy], start=future_start(practice)
    )

    with pytest.raises(ValidationError, match="not started"):
        appointment_mark_no_show(appointment=appointment, actor=tenant.clinician)
    assert BillingItem.objects.count() == 0


def test_late_cancel_inside_the_window_charges_the_fee(tenant, practice, client_a, therapy):
    practice.late_cancel_policy, practice.late_cancel_fee = FeePolicy.FLAT, D("75.00")
    practice.late_cancel_window_hours = 24
    practice.save()
    soon = make_appointment(
        practice,
        tenant.clinician,
        tenant.clinician,
        [client_a],
        [therapy],
        start=timezone.now() + timedelta(hours=5),
    )
    later = make_appointment(
        practice,
        tenant.clinician,
        tenant.clinician,
        [client_a],
        [therapy],
        start=timezone.now() + timedelta(hours=72),
    )

    appointment_cancel(appointment=soon, actor=tenant.admin)
    appointment_cancel(appointment=later, actor=tenant.admin)

    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.status == Appointment.Status.LATE_CANCELLED
    assert later.status == Appointment.Status.CANCELLED
    assert [(i.kind, i.amount) for i in BillingItem.objects.filter(appointment=soon)] == [
        (BillingItem.Kind.LATE_CANCEL_FEE, D("75"))
    ]
    assert not BillingItem.objects.filter(appointment=later).exists()


def test_late_cancel_without_a_fee_policy_bills_nothing(tenant, practice, client_a, therapy):
    soon = make_appointment(
        practice,
        tenant.clinician,
        tenant.clinician,
        [client_a],
        [therapy],
        start=timezone.now() + timedelta(hours=2),
    )

    appointment_cancel(appointment=soon, actor=tenant.admin)

    soon.refresh_from_db()
    assert soon.status == Appointment.Status.LATE_CANCELLED
    assert BillingItem.objects.count() == 0


# --- cancelling a completed appointment ----------------------------------------------


def test_cancelling_a_completed_appointment_removes_its_uninvoiced_items(tenant, practice, therapy):
    people = [ClientFactory(practice=practice), ClientFactory(practice=practice)]
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, people, [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    item_ids = {str(pk) for pk in BillingItem.objects.values_list("pk", flat=True)}
    assert len(item_ids) == 2

    appointment_cancel(appointment=appointment, actor=tenant.admin)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert BillingItem.objects.count() == 0
    removed = AuditLog.objects.filter(action="billing_item.removed")
    assert {row.object_id for row in removed} == item_ids
    assert all(row.actor == tenant.admin and row.changes["amount"] == "150.000" for row in removed)


def test_cancelling_with_an_invoiced_item_is_refused_and_changes_nothing(tenant, practice, therapy):
    people = [ClientFactory(practice=practice), ClientFactory(practice=practice)]
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, people, [therapy])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    invoice_for(BillingItem.objects.filter(appointment=appointment).first())
    audit_before = AuditLog.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        appointment_cancel(appointment=appointment, actor=tenant.admin)

    assert excinfo.value.messages == [CANCEL_INVOICED]
    assert "credit invoice" in CANCEL_INVOICED
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED
    assert BillingItem.objects.filter(appointment=appointment).count() == 2
    assert AuditLog.objects.count() == audit_before


def test_a_cancelled_appointment_cannot_be_completed(tenant, practice, client_a, therapy):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    appointment_cancel(appointment=appointment, actor=tenant.admin, late=False)

    with pytest.raises(ValidationError):
        appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    assert billing_items_generate_for_appointment(appointment=appointment, actor=tenant.biller) == []
    assert BillingItem.objects.count() == 0


# --- bad input -----------------------------------------------------------------------


def _create(tenant, **overrides):
    arguments = {
        "practice": tenant.practice,
        "actor": tenant.admin,
        "clinician": tenant.clinician,
        "start": past_start(tenant.practice),
        "duration_minutes": 50,
    }
    arguments.update(overrides)
    return appointment_create(**arguments)


def test_a_duration_of_zero_is_refused_and_nothing_saved(tenant, practice, client_a, therapy):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        _create(tenant, clients=[client_a], services=[therapy], duration_minutes=0)

    assert excinfo.value.message_dict["duration_minutes"] == [DURATION_POSITIVE]
    assert row_counts() == before


def test_an_appointment_without_clients_is_refused(tenant, practice, therapy):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        _create(tenant, clients=[], services=[therapy])

    assert excinfo.value.message_dict["clients"] == [NEEDS_CLIENT]
    assert row_counts() == before


def test_a_client_of_another_practice_is_refused(tenant, other_tenant, practice, client_a, therapy):
    stranger = ClientFactory(practice=other_tenant.practice, first_name=client_a.first_name)
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        _create(tenant, clients=[client_a, stranger], services=[therapy])

    assert excinfo.value.message_dict["clients"] == [WRONG_PRACTICE]
    assert row_counts() == before


def test_a_service_of_another_practice_is_refused(tenant, other_tenant, practice, client_a, therapy):
    foreign = ServiceFactory(practice=other_tenant.practice, code="IND")
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        _create(tenant, clients=[client_a], services=[foreign])

    assert excinfo.value.message_dict["services"] == [WRONG_PRACTICE]
    assert row_counts() == before


def test_a_clinician_of_another_practice_is_refused(tenant, other_tenant, practice, client_a, therapy):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        _create(tenant, clients=[client_a], services=[therapy], clinician=other_tenant.clinician)

    assert "clinician" in excinfo.value.message_dict
    assert row_counts() == before


def test_a_recurrence_without_end_or_count_is_refused(tenant, practice, client_a, therapy):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        _create(tenant, clients=[client_a], services=[therapy], recurrence=Recurrence(freq="weekly"))

    assert excinfo.value.message_dict["recurrence"] == [RECURRENCE_NEEDS_END]
    assert row_counts() == before


def test_a_too_long_recurrence_is_refused(tenant, practice, client_a, therapy):
    before = row_counts()

    with pytest.raises(ValidationError):
        _create(
            tenant,
            clients=[client_a],
            services=[therapy],
            recurrence=Recurrence(freq="weekly", count=appt_services.MAX_OCCURRENCES + 1),
        )
    with pytest.raises(ValidationError):
        _create(
            tenant,
            clients=[client_a],
            services=[therapy],
            recurrence=Recurrence(freq="weekly", until=(timezone.now() + timedelta(days=3650)).date()),
        )
    assert row_counts() == before


# --- constraints in the database --------------------------------------------------------


def _completed_item(tenant, practice, client, service):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client], [service])
    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    return BillingItem.objects.get(appointment=appointment)


def test_the_database_refuses_a_second_session_item_from_bulk_create(tenant, practice, client_a, therapy):
    item = _completed_item(tenant, practice, client_a, therapy)
    twin = BillingItem.objects.get(pk=item.pk)
    twin.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        BillingItem.objects.bulk_create([twin])
    assert BillingItem.objects.count() == 1


def test_the_database_refuses_a_second_session_item_from_raw_sql(tenant, practice, client_a, therapy):
    item = _completed_item(tenant, practice, client_a, therapy)
    table = BillingItem._meta.db_table
    columns = [f.column for f in BillingItem._meta.concrete_fields if f.column not in ("id",)]

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {table} WHERE id = %s",
            [item.pk],
        )
    assert BillingItem.objects.count() == 1


def test_the_database_allows_a_second_item_for_another_service(tenant, practice, client_a, therapy):
    item = _completed_item(tenant, practice, client_a, therapy)
    other = ServiceFactory(practice=practice, code="OTH")
    item.pk = None
    item.service = other
    item.save()
    assert BillingItem.objects.count() == 2


def test_the_database_refuses_a_second_fee_for_the_same_attendee(tenant, practice, client_a, therapy):
    practice.no_show_policy, practice.no_show_fee = FeePolicy.FLAT, D("30")
    practice.save()
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    appointment_mark_no_show(appointment=appointment, actor=tenant.clinician)
    fee = BillingItem.objects.get(appointment=appointment)
    fee.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        fee.save()


def test_the_database_refuses_an_amount_that_is_not_net_plus_tax(tenant, practice, client_a, therapy):
    item = _completed_item(tenant, practice, client_a, therapy)

    with pytest.raises(IntegrityError), transaction.atomic():
        BillingItem.objects.filter(pk=item.pk).update(amount=D("151.00"))
    item.refresh_from_db()
    assert item.amount == D("150")


def test_the_database_refuses_a_negative_amount(tenant, practice, client_a, therapy):
    item = _completed_item(tenant, practice, client_a, therapy)

    with pytest.raises(IntegrityError), transaction.atomic():
        BillingItem.objects.filter(pk=item.pk).update(net=D("-10"), amount=D("-10"))


@pytest.mark.parametrize("minutes", [0, -30])
def test_the_database_refuses_an_appointment_that_ends_before_it_starts(tenant, practice, client_a, therapy, minutes):
    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(end=appointment.start + timedelta(minutes=minutes))
    appointment.refresh_from_db()
    assert appointment.duration_minutes == 50


# --- billing state on the calendar flyout ------------------------------------------------


def test_billing_state_follows_the_items(tenant, practice, client_a, therapy):
    from billing.models import Invoice
    from tests.billing.helpers import appointment_billing_state

    appointment = make_appointment(practice, tenant.clinician, tenant.clinician, [client_a], [therapy])
    assert appointment_billing_state(appointment) == "no_items"

    appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    assert appointment_billing_state(appointment) == "uninvoiced"

    invoice = invoice_for(BillingItem.objects.get(appointment=appointment))
    assert appointment_billing_state(appointment) == "invoiced"

    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.PAID, number="INV-0001")
    assert appointment_billing_state(appointment) == "paid"
