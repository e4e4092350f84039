"""autopay_amount_due(enrolment, night): what the nightly AutoPay job may charge a client on
a night (the practice's local date whose 12 AM to 6 AM it runs in). The practice is in
New York; amounts in the practice's figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from billing.models import Invoice
from billing.selectors import autopay_amount_due
from clients.autopay import autopay_night_next
from clients.models import AutoPayApproval, AutoPayConsent, AutoPayEnrolment, AutoPaySkip
from tests.factories import ClientFactory, issued_invoice, pay

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
ENROLLED = datetime(2026, 3, 4, 19, 0, tzinfo=NY)
NIGHT = date(2026, 3, 5)


@pytest.fixture
def ana(tenant):
    assert tenant.practice.timezone == "America/New_York"
    return ClientFactory(practice=tenant.practice, email="ana@mail.test")


def invoice_issued_at(tenant, client, when: datetime, *prices: str) -> Invoice:
    invoice = issued_invoice(tenant.practice, client, tenant.biller, *prices)
    Invoice.objects.filter(pk=invoice.pk).update(issued_at=when)
    invoice.refresh_from_db()
    return invoice


def enrol(tenant, client, *, at=ENROLLED, include=False, cap=None) -> AutoPayEnrolment:
    return AutoPayEnrolment.objects.create(
        practice=tenant.practice,
        client=client,
        started_at=at,
        balance_cutoff_at=at,
        include_balance=include,
        open_balance=Decimal("0"),
        max_per_night=cap,
    )


def test_the_balance_open_at_enrolment_is_left_out_unless_included(tenant, ana):
    before = invoice_issued_at(tenant, ana, ENROLLED - timedelta(hours=2), "100.00")
    after = invoice_issued_at(tenant, ana, ENROLLED + timedelta(hours=2), "40.00")

    left_out = autopay_amount_due(enrol(tenant, ana), NIGHT)
    assert (left_out.amount, left_out.invoices) == (Decimal("40.00"), (after,))

    AutoPayEnrolment.objects.update(ended_at=ENROLLED + timedelta(minutes=1))
    included = autopay_amount_due(enrol(tenant, ana, at=ENROLLED + timedelta(minutes=2), include=True), NIGHT)
    assert (included.amount, included.invoices) == (Decimal("140.00"), (before, after))


def test_what_is_paid_is_not_owed_and_only_open_invoices_count(tenant, ana):
    part = invoice_issued_at(tenant, ana, ENROLLED + timedelta(hours=1), "100.00")
    paid = invoice_issued_at(tenant, ana, ENROLLED + timedelta(hours=1), "30.00")
    pay(tenant.practice, ana, tenant.biller, "25.00", allocations={part.pk: Decimal("25.00")})
    pay(tenant.practice, ana, tenant.biller, "30.00", allocations={paid.pk: Decimal("30.00")})

    due = autopay_amount_due(enrol(tenant, ana), NIGHT)

    assert (due.amount, due.invoices) == (Decimal("75.00"), (part,))


def test_an_invoice_issued_after_the_night_began_waits_for_the_next_night(tenant, ana):
    late = invoice_issued_at(tenant, ana, datetime(2026, 3, 5, 1, 30, tzinfo=NY), "50.00")
    enrolment = enrol(tenant, ana)
    assert autopay_amount_due(enrolment, NIGHT).amount == 0
    assert autopay_amount_due(enrolment, NIGHT + timedelta(days=1)).invoices == (late,)


@pytest.mark.parametrize(
    ("enrolled", "first_night"),
    [
        # In the evening: the first night is the next date's.
        (datetime(2026, 3, 4, 19, 0, tzinfo=NY), date(2026, 3, 5)),
        # At 3 AM, inside the window: that same night (the window is still open).
        (datetime(2026, 3, 5, 3, 0, tzinfo=NY), date(2026, 3, 5)),
        # At 6 AM, the window has closed: the next night.
        (datetime(2026, 3, 5, 6, 0, tzinfo=NY), date(2026, 3, 6)),
    ],
)
def test_the_first_night_is_the_next_night_after_enrolling(tenant, ana, enrolled, first_night):
    invoice_issued_at(tenant, ana, enrolled - timedelta(days=3), "80.00")
    enrolment = enrol(tenant, ana, at=enrolled, include=True)
    assert autopay_night_next(tenant.practice, enrolled) == first_night
    assert autopay_amount_due(enrolment, first_night - timedelta(days=1)).off
    assert autopay_amount_due(enrolment, first_night).amount == Decimal("80.00")


def test_nothing_after_autopay_is_turned_off(tenant, ana):
    invoice_issued_at(tenant, ana, ENROLLED + timedelta(hours=1), "80.00")
    enrolment = enrol(tenant, ana)
    AutoPayEnrolment.objects.filter(pk=enrolment.pk).update(ended_at=datetime(2026, 3, 4, 22, 0, tzinfo=NY))
    enrolment.refresh_from_db()
    due = autopay_amount_due(enrolment, NIGHT)
    assert due.off and due.amount == 0 and due.owed == Decimal("80.00")


def test_a_skipped_night_charges_nothing_and_the_next_night_charges_it(tenant, ana):
    invoice_issued_at(tenant, ana, ENROLLED + timedelta(hours=1), "80.00")
    enrolment = enrol(tenant, ana)
    AutoPaySkip.objects.create(enrolment=enrolment, night=NIGHT)

    skipped = autopay_amount_due(enrolment, NIGHT)
    assert skipped.skipped and skipped.amount == 0
    assert autopay_amount_due(enrolment, NIGHT + timedelta(days=1)).amount == Decimal("80.00")


def test_above_the_maximum_the_night_waits_for_approval_of_at_least_the_amount(tenant, ana):
    invoice_issued_at(tenant, ana, ENROLLED + timedelta(hours=1), "150.00")
    enrolment = enrol(tenant, ana, cap=Decimal("100"))

    waits = autopay_amount_due(enrolment, NIGHT)
    assert waits.waits_for_approval and waits.amount == 0 and waits.owed == Decimal("150.00")

    approval = AutoPayApproval.objects.create(enrolment=enrolment, night=NIGHT, amount=Decimal("120"))
    assert autopay_amount_due(enrolment, NIGHT).waits_for_approval
    approval.amount = Decimal("150")
    approval.save()
    assert autopay_amount_due(enrolment, NIGHT).amount == Decimal("150.00")
    # At the maximum there is nothing to approve.
    enrolment.max_per_night = Decimal("150")
    assert autopay_amount_due(enrolment, NIGHT + timedelta(days=1)).amount == Decimal("150.00")


def test_the_database_refuses_two_enrolments_on_and_a_consent_without_who(tenant, ana):
    first = enrol(tenant, ana)
    with pytest.raises(IntegrityError), transaction.atomic():
        enrol(tenant, ana)
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoPayEnrolment.objects.filter(pk=first.pk).update(max_per_night=Decimal("0"))
    consent = {
        "enrolment": first,
        "practice": tenant.practice,
        "client": ana,
        "terms_version": "v",
        "terms_text": "t",
        "include_balance": False,
        "card": "Visa •••• 4242",
        "given_at": ENROLLED,
    }
    # A staff member's consent names them; the portal is the client's own.
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoPayConsent.objects.create(**consent, given_by="staff", channel="phone")
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoPayConsent.objects.create(**consent, given_by="client", channel="phone")
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoPaySkip.objects.bulk_create(
            [AutoPaySkip(enrolment=first, night=NIGHT), AutoPaySkip(enrolment=first, night=NIGHT)]
        )
