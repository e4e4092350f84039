"""Issue 9 part 12: no-show and late-cancel fees follow the practice's tax settings (GST
included or tax added, the default or the service's tax rate), and a policy setting makes
fees tax-free where the law says so."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.services import appointment_cancel, appointment_mark_no_show
from billing.models import BillingItem, ClientAccount
from billing.services import invoice_create, ledger_verify
from practice.models import FeePolicy, Practice, TaxRate
from tests.appointments.helpers import details_post
from tests.factories import ServiceFactory, make_appointment, past_start
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def gst(tenant) -> TaxRate:
    """A practice whose prices include GST 15% (its default tax rate), charging 46.00 for a no-show."""
    practice = tenant.practice
    rate = TaxRate.objects.create(practice=practice, name="GST", percent=D("15"), is_default=True)
    practice.prices_include_tax = True
    practice.no_show_policy, practice.no_show_fee = FeePolicy.FLAT, D("46.00")
    practice.late_cancel_policy, practice.late_cancel_fee = FeePolicy.FLAT, D("46.00")
    practice.save()
    return rate


def no_show(tenant, client, service=None):
    service = service or ServiceFactory(practice=tenant.practice, price=D("115.00"))
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [client], [service], past_start(tenant.practice)
    )
    appointment_mark_no_show(appointment=appointment, actor=tenant.owner)
    return BillingItem.objects.get(client=client)


def figures(item: BillingItem) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return item.net, item.tax, item.amount, item.tax_percent


def test_a_gst_inclusive_practice_charges_a_46_fee_as_40_plus_6_gst(tenant, gst, ada):
    item = no_show(tenant, ada)

    assert figures(item) == (D("40.00"), D("6.00"), D("46.00"), D("15"))
    invoice = invoice_create(practice=tenant.practice, client=ada, actor=tenant.biller, item_ids=[item.pk], issue=True)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (D("40.00"), D("6.00"), D("46.00"))
    assert ClientAccount.objects.get(client=ada).balance == D("46.00")
    assert ledger_verify(tenant.practice) == []


def test_a_tax_exclusive_practice_adds_the_tax_to_the_fee(tenant, gst, ada):
    Practice.objects.filter(pk=tenant.practice.pk).update(prices_include_tax=False)
    tenant.practice.refresh_from_db()

    item = no_show(tenant, ada)

    assert figures(item) == (D("46.00"), D("6.90"), D("52.90"), D("15"))


def test_a_tax_free_fee_policy_charges_no_tax(tenant, gst, ada):
    Practice.objects.filter(pk=tenant.practice.pk).update(fee_tax_free=True)
    tenant.practice.refresh_from_db()

    item = no_show(tenant, ada)

    assert figures(item) == (D("46.00"), D("0"), D("46.00"), D("0"))
    assert ledger_verify(tenant.practice) == []


def test_a_full_price_fee_takes_the_services_own_tax_rate(tenant, gst, ada):
    # Given a full-price no-show policy and a service taxed at 10% (not the default 15%)
    Practice.objects.filter(pk=tenant.practice.pk).update(no_show_policy=FeePolicy.FULL)
    tenant.practice.refresh_from_db()
    ten = TaxRate.objects.create(practice=tenant.practice, name="Reduced", percent=D("10"))
    service = ServiceFactory(practice=tenant.practice, price=D("110.00"), tax_rate=ten)

    item = no_show(tenant, ada, service)

    assert figures(item) == (D("100.00"), D("10.00"), D("110.00"), D("10"))


def test_a_full_price_fee_of_a_tax_exempt_service_is_exempt(tenant, gst, ada):
    Practice.objects.filter(pk=tenant.practice.pk).update(no_show_policy=FeePolicy.FULL)
    tenant.practice.refresh_from_db()
    service = ServiceFactory(practice=tenant.practice, price=D("110.00"), tax_rate=None)

    item = no_show(tenant, ada, service)

    assert figures(item) == (D("110.00"), D("0"), D("110.00"), D("0"))


def test_the_late_cancel_fee_on_the_page_is_40_plus_6_gst(tenant, gst, ada):
    service = ServiceFactory(practice=tenant.practice, price=D("115.00"))
    start = timezone.now() + timedelta(hours=3)
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ada], [service], start)

    signed_in(tenant.owner).post(url(tenant.practice, "appointments:cancel", appointment_id=appointment.pk))

    assert figures(BillingItem.objects.get(client=ada)) == (D("40.00"), D("6.00"), D("46.00"), D("15"))


def test_settings_billing_details_saves_the_tax_free_choice_and_fees_follow_it(tenant, gst, ada):
    owner = signed_in(tenant.owner)
    page = owner.get(url(tenant.practice, "billing:billing_details")).content.decode()
    assert "Fees are tax-free" in page

    response = owner.post(
        url(tenant.practice, "billing:billing_details"),
        details_post(
            tenant.practice,
            prices_include_tax="on",
            no_show_policy="flat",
            no_show_fee="46",
            fee_tax_free="on",
        ),
    )

    assert response.status_code == 302
    tenant.practice.refresh_from_db()
    assert tenant.practice.fee_tax_free is True
    appointment = make_appointment(
        tenant.practice,
        tenant.owner,
        tenant.clinician,
        [ada],
        [ServiceFactory(practice=tenant.practice)],
        past_start(tenant.practice),
    )
    owner.post(url(tenant.practice, "appointments:no_show", appointment_id=appointment.pk))
    assert figures(BillingItem.objects.get(client=ada)) == (D("46.00"), D("0"), D("46.00"), D("0"))


def test_late_cancel_via_the_service_also_follows_the_tax_free_setting(tenant, gst, ada):
    Practice.objects.filter(pk=tenant.practice.pk).update(fee_tax_free=True)
    tenant.practice.refresh_from_db()
    service = ServiceFactory(practice=tenant.practice, price=D("115.00"))
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], timezone.now() + timedelta(days=3)
    )

    appointment_cancel(appointment=appointment, actor=tenant.owner, late=True)

    assert figures(BillingItem.objects.get(client=ada)) == (D("46.00"), D("0"), D("46.00"), D("0"))
