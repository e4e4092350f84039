"""Property: whatever staff click, in whatever order, billing items stay right.

For any sequence of complete / no-show / edit billing details / generate / cancel /
invoice-an-item on a few appointments, after every step:
- at most one item per (appointment, attendee, service), and one fee per attendee;
- each uninvoiced item's figures are its own line recomputed by billing.money, so the
  uninvoiced total a biller sees is the sum of those lines;
- an uninvoiced session item says what the attendee's billing details say;
- an invoiced item never changes, and never disappears;
- only a held session is billed (completed: sessions; no-show/late cancel: fees).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.models import Appointment, BillingDetail, Service
from appointments.services import (
    appointment_cancel,
    appointment_mark_completed,
    appointment_mark_no_show,
    billing_items_generate_for_appointment,
)
from billing.models import BillingItem
from billing.money import line_amounts
from billing.selectors import uninvoiced_total
from billing.services import billing_detail_update
from practice.models import FeePolicy
from tests.billing.helpers import sum_lines
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
APPOINTMENTS = 3  # two that have happened, one in the future

appointment_index = st.integers(0, APPOINTMENTS - 1)
money = st.decimals(min_value=D("0"), max_value=D("500"), places=2)
operation = st.one_of(
    st.tuples(st.just("complete"), appointment_index),
    st.tuples(st.just("no_show"), appointment_index),
    st.tuples(st.just("generate"), appointment_index),
    st.tuples(st.just("cancel"), appointment_index, st.sampled_from([None, True, False])),
    st.tuples(
        st.just("edit"),
        appointment_index,
        st.integers(0, 10),
        st.decimals(min_value=D("0.25"), max_value=D("4"), places=2),
        money,
        st.sampled_from([D("0"), D("5"), D("12.5"), D("15"), D("8.875")]),
    ),
    st.tuples(st.just("invoice"), st.integers(0, 50)),
)
practice_setup = st.fixed_dictionaries(
    {
        "prices_include_tax": st.booleans(),
        "no_show_policy": st.sampled_from(FeePolicy.values),
        "late_cancel_policy": st.sampled_from(FeePolicy.values),
        "fee": st.decimals(min_value=D("0"), max_value=D("90"), places=2),
    }
)


def build(tenant, setup):
    practice = tenant.practice
    practice.prices_include_tax = setup["prices_include_tax"]
    practice.no_show_policy = setup["no_show_policy"]
    practice.late_cancel_policy = setup["late_cancel_policy"]
    practice.no_show_fee = practice.late_cancel_fee = setup["fee"]
    practice.save()
    tax = TaxRateFactory(practice=practice, name="Tax 8.875%", percent=D("8.875"))
    self_pay = ServiceFactory(practice=practice, code="SP", price=D("133.33"), tax_rate=tax)
    fixed = ServiceFactory(
        practice=practice,
        code="CPF",
        price=D("180"),
        payment_type=Service.PaymentType.COPAY,
        copay_kind=Service.CopayKind.FIXED,
        copay_amount=D("25"),
    )
    percent = ServiceFactory(
        practice=practice,
        code="CPP",
        price=D("99.99"),
        payment_type=Service.PaymentType.COPAY,
        copay_kind=Service.CopayKind.PERCENT,
        copay_percent=D("17.5"),
    )
    insurance = ServiceFactory(
        practice=practice, code="INS", price=D("200"), payment_type=Service.PaymentType.INSURANCE
    )
    ana, ben, cy = (ClientFactory(practice=practice) for _ in range(3))
    clinician = tenant.clinician
    return [
        make_appointment(practice, clinician, clinician, [ana], [self_pay, fixed], start=past_start(practice, 3)),
        make_appointment(
            practice,
            clinician,
            clinician,
            [ana, ben, cy],
            [percent, insurance, self_pay],
            start=past_start(practice, 4),
        ),
        make_appointment(practice, clinician, clinician, [ben], [self_pay], start=future_start(practice, 5)),
    ]


def apply(operation, appointments, tenant):
    kind, *args = operation
    if kind == "invoice":
        uninvoiced = list(BillingItem.objects.filter(invoice__isnull=True).order_by("pk"))
        if uninvoiced:
            invoice_for(uninvoiced[args[0] % len(uninvoiced)])
        return
    appointment = appointments[args[0]]
    if kind == "complete":
        appointment_mark_completed(appointment=appointment, actor=tenant.clinician)
    elif kind == "no_show":
        appointment_mark_no_show(appointment=appointment, actor=tenant.clinician)
    elif kind == "generate":
        billing_items_generate_for_appointment(appointment=appointment, actor=tenant.biller)
    elif kind == "cancel":
        appointment_cancel(appointment=appointment, actor=tenant.admin, late=args[1])
    elif kind == "edit":
        details = list(BillingDetail.objects.filter(appointment=appointment).order_by("pk"))
        detail = details[args[1] % len(details)]
        billing_detail_update(
            detail=detail, actor=tenant.biller, units=args[2], unit_price=args[3], tax_percent=args[4]
        )


def figures(item):
    return (item.units, item.unit_price, item.tax_percent, item.net, item.tax, item.amount, item.client_id)


def check(appointments, practice, invoiced_before):
    items = list(BillingItem.objects.select_related("appointment"))
    # Unique per (appointment, attendee, service) and one fee per attendee and kind.
    sessions = Counter((i.appointment_id, i.client_id, i.service_id) for i in items if i.kind == "session")
    fees = Counter((i.appointment_id, i.client_id, i.kind) for i in items if i.kind != "session")
    assert max(sessions.values(), default=1) == 1
    assert max(fees.values(), default=1) == 1

    details = {(d.appointment_id, d.client_id, d.service_id): d for d in BillingDetail.objects.all()}
    lines = []
    for item in items:
        if item.invoice_id is not None:
            continue
        line = line_amounts(
            units=item.units,
            unit_price=item.unit_price,
            tax_percent=item.tax_percent,
            currency=practice.currency,
            prices_include_tax=practice.prices_include_tax,
        )
        assert (item.net, item.tax, item.amount) == (line.net, line.tax, line.gross)
        lines.append(line)
        if item.kind == BillingItem.Kind.SESSION:
            assert item.appointment.status == Appointment.Status.COMPLETED
            detail = details[(item.appointment_id, item.client_id, item.service_id)]
            assert (item.units, item.unit_price, item.tax_percent) == (
                detail.units,
                detail.unit_price,
                detail.tax_percent,
            )
        else:
            expected = {
                BillingItem.Kind.NO_SHOW_FEE: Appointment.Status.NO_SHOW,
                BillingItem.Kind.LATE_CANCEL_FEE: Appointment.Status.LATE_CANCELLED,
            }[item.kind]
            assert item.appointment.status == expected
    assert uninvoiced_total(practice) == sum_lines(lines).gross

    # Invoiced items keep exactly what they had when invoiced.
    now = {i.pk: figures(i) for i in items if i.invoice_id is not None}
    for pk, before in invoiced_before.items():
        assert now.get(pk) == before

    # A held session has an item for every billable detail; a scheduled or plainly
    # cancelled one has none, and the future one is never billed for a session.
    for appointment in Appointment.objects.filter(pk__in=[a.pk for a in appointments]):
        mine = [i for i in items if i.appointment_id == appointment.pk]
        if appointment.status in (Appointment.Status.SCHEDULED, Appointment.Status.CANCELLED):
            assert mine == []
        if appointment.status == Appointment.Status.COMPLETED:
            billed = {(i.client_id, i.service_id) for i in mine}
            wanted = {(c, s) for (a, c, s), d in details.items() if a == appointment.pk and d.unit_price > 0}
            assert wanted <= billed
    future = appointments[2]
    assert not any(i.appointment_id == future.pk and i.kind == BillingItem.Kind.SESSION for i in items)
    return now


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(setup=practice_setup, operations=st.lists(operation, min_size=1, max_size=14))
def test_items_stay_unique_and_add_up_whatever_staff_do(tenant, setup, operations):
    # Each example runs in its own transaction, rolled back, so examples do not see each other.
    with transaction.atomic():
        appointments = build(tenant, setup)
        invoiced = {}
        for step in operations:
            # A refusal (not started, already cancelled, invoiced...) must leave things right too.
            with contextlib.suppress(ValidationError):
                apply(step, appointments, tenant)
            invoiced = check(appointments, tenant.practice, invoiced)
        transaction.set_rollback(True)
