"""Settings > Packages, "Sell package" on a client, sessions left and refunds of unused
sessions, as a biller sees them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.forms.packages import PRICE_NEGATIVE, PRICE_TOO_FINE
from billing.models import ClientAccount, Invoice, Package, PackagePurchase
from billing.selectors import package_summary
from billing.services import (
    PACKAGE_REFUND_NOT_PAID,
    PACKAGE_REFUND_TOO_MANY,
    VOID_PACKAGE_USED,
    package_refund_unused,
    package_sell,
)
from practice.models import AuditLog, TaxRate
from tests.factories import ClientFactory, ServiceFactory, paid_package
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(tenant):
    return ServiceFactory(practice=tenant.practice, name="Counselling 50 min", price=Decimal("150.00"))


@pytest.fixture
def package(tenant, service):
    return Package.objects.create(
        practice=tenant.practice, name="10 sessions", service=service, sessions=10, price=Decimal("1350.00")
    )


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")


def test_biller_adds_a_package_and_sees_it_listed(tenant, service):
    client = signed_in(tenant.biller)

    response = client.post(
        url(tenant, "billing:package_new"),
        {"name": "5 sessions", "service": service.pk, "sessions": "5", "price": "700.00", "valid_days": "180"},
    )

    assert response.status_code == 302
    package = Package.objects.get(practice=tenant.practice)
    assert (package.sessions, package.price, package.valid_days) == (5, Decimal("700.000"), 180)
    listing = client.get(url(tenant, "billing:packages")).content.decode()
    assert "5 sessions" in listing and "$700.00" in listing and "180 days" in listing
    assert AuditLog.objects.filter(action="package.created", practice=tenant.practice).exists()


@pytest.mark.parametrize(("price", "message"), [("-5", PRICE_NEGATIVE), ("10.005", PRICE_TOO_FINE)])
def test_a_bad_price_is_a_field_error(tenant, service, price, message):
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:package_new"), {"name": "Bad", "service": service.pk, "sessions": "5", "price": price}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Package.objects.exists()


def test_another_practices_service_cannot_be_chosen(tenant, other_tenant):
    foreign = ServiceFactory(practice=other_tenant.practice)
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:package_new"), {"name": "X", "service": foreign.pk, "sessions": "5", "price": "10"}
    )
    assert response.status_code == 400
    assert not Package.objects.exists()


def test_edit_and_archive_a_package(tenant, package, service):
    client = signed_in(tenant.biller)

    client.post(
        url(tenant, "billing:package_edit", package_id=package.pk),
        {"name": "10 sessions (2025)", "service": service.pk, "sessions": "10", "price": "1400.00"},
    )
    package.refresh_from_db()
    assert (package.name, package.price) == ("10 sessions (2025)", Decimal("1400.000"))

    response = client.post(url(tenant, "billing:package_archive", package_id=package.pk), follow=True)
    assert "archived: it is no longer offered" in response.content.decode()
    assert response.content.decode().count('data-testid="package-row"') == 0
    archived = client.get(url(tenant, "billing:packages"), {"archived": "1"}).content.decode()
    assert archived.count('data-testid="package-row"') == 1 and "10 sessions (2025)" in archived

    client.post(url(tenant, "billing:package_archive", package_id=package.pk), {"restore": "1"})
    package.refresh_from_db()
    assert package.is_archived is False


def test_selling_a_package_creates_its_invoice_and_shows_sessions_left(tenant, package, ana):
    client = signed_in(tenant.biller)

    # When the biller sells the package to Ana, issuing the invoice
    response = client.post(url(tenant, "billing:package_sell", client_id=ana.pk), {"package": package.pk, "issue": "1"})

    # Then an open invoice for the package's price exists and the biller lands on it
    purchase = PackagePurchase.objects.get(client=ana)
    invoice = purchase.invoice
    assert (invoice.status, invoice.total, invoice.client_id) == ("open", Decimal("1350.000"), ana.pk)
    assert response.status_code == 302 and response.url == invoice.get_absolute_url()
    assert ClientAccount.objects.get(client=ana).balance == Decimal("1350.000")
    # And Ana's package page shows 10 sessions left
    page = client.get(url(tenant, "billing:package_sell", client_id=ana.pk)).content.decode()
    assert 'data-testid="sessions-left">10<' in page


def test_selling_as_a_draft_leaves_the_invoice_unissued_and_the_sessions_unusable(tenant, package, ana):
    signed_in(tenant.biller).post(
        url(tenant, "billing:package_sell", client_id=ana.pk), {"package": package.pk, "issue": "0"}
    )
    purchase = PackagePurchase.objects.get(client=ana)
    assert purchase.invoice.status == "draft"
    assert package_summary(tenant.practice, ana).sessions_left == 0


def test_package_summary_counts_live_sessions_only(tenant, package, ana, django_assert_num_queries):
    live = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller)
    expired = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller)
    PackagePurchase.objects.filter(pk=live.pk).update(sessions_used=3)
    PackagePurchase.objects.filter(pk=expired.pk).update(expires_on=tenant.practice.local_today() - timedelta(days=1))

    with django_assert_num_queries(1):
        summary = package_summary(tenant.practice, ana)

    assert summary.sessions_left == 7
    assert [(line.sessions_left, line.expired) for line in summary.lines] == [(10, True), (7, False)]


def test_refunding_unused_sessions_issues_a_credit_invoice(tenant, package, ana):
    purchase = paid_package(tenant.practice, ana, tenant.biller, package)
    PackagePurchase.objects.filter(pk=purchase.pk).update(sessions_used=6)
    client = signed_in(tenant.biller)

    # When the biller refunds the 4 unused sessions
    page = client.get(url(tenant, "billing:package_refund", purchase_id=purchase.pk)).content.decode()
    assert 'data-testid="sessions-left">4<' in page
    response = client.post(
        url(tenant, "billing:package_refund", purchase_id=purchase.pk), {"sessions": "4", "reason": "Moving away"}
    )

    # Then a credit invoice of 4 x 135.00 is issued and no sessions are left
    credit = Invoice.objects.get(client=ana, kind="credit")
    assert (credit.status, credit.total, credit.reason) == ("open", Decimal("-540.000"), "Moving away")
    assert response.status_code == 302 and response.url == credit.get_absolute_url()
    purchase.refresh_from_db()
    assert (purchase.sessions_refunded, purchase.sessions_left) == (4, 0)
    assert ClientAccount.objects.get(client=ana).credit_balance == Decimal("540.000")


def test_refund_is_at_the_price_sold_even_after_the_package_price_changes(tenant, package, ana):
    tax = TaxRate.objects.create(practice=tenant.practice, name="Tax", percent=Decimal("10"))
    package.service.tax_rate = tax
    package.service.save()
    purchase = paid_package(tenant.practice, ana, tenant.biller, package)
    Package.objects.filter(pk=package.pk).update(price=Decimal("2000.00"))

    signed_in(tenant.biller).post(
        url(tenant, "billing:package_refund", purchase_id=purchase.pk), {"sessions": "2", "reason": "Unused"}
    )

    # 2 x 135.00 plus the 10% tax it was sold with
    credit = Invoice.objects.get(client=ana, kind="credit")
    assert (credit.subtotal, credit.tax, credit.total) == (Decimal("-270.000"), Decimal("-27.000"), Decimal("-297.000"))


def test_refunding_more_than_is_left_is_a_field_error(tenant, package, ana):
    purchase = paid_package(tenant.practice, ana, tenant.biller, package)
    PackagePurchase.objects.filter(pk=purchase.pk).update(sessions_used=8)

    response = signed_in(tenant.biller).post(
        url(tenant, "billing:package_refund", purchase_id=purchase.pk), {"sessions": "3", "reason": "Unused"}
    )

    assert response.status_code == 400
    assert PACKAGE_REFUND_TOO_MANY in response.content.decode()
    assert not Invoice.objects.filter(client=ana, kind="credit").exists()


def test_a_package_on_a_draft_invoice_cannot_be_refunded(tenant, package, ana):
    purchase = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller, issue=False)
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:package_refund", purchase_id=purchase.pk), {"sessions": "1", "reason": "Unused"}
    )
    assert response.status_code == 400
    assert not Invoice.objects.filter(client=ana, kind="credit").exists()


def test_an_unpaid_package_cannot_be_refunded_and_the_page_says_to_void_it(tenant, package, ana):
    # Given a package sold on an open invoice nobody has paid
    purchase = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller)
    client = signed_in(tenant.biller)
    # When the biller opens the refund page, then it says to void the unpaid invoice instead
    page = client.get(url(tenant, "billing:package_refund", purchase_id=purchase.pk)).content.decode()
    assert PACKAGE_REFUND_NOT_PAID.replace("'", "&#x27;") in page
    # When the biller posts a refund anyway, then it is refused and no credit is made
    response = client.post(
        url(tenant, "billing:package_refund", purchase_id=purchase.pk), {"sessions": "2", "reason": "Unused"}
    )
    assert response.status_code == 400
    assert PACKAGE_REFUND_NOT_PAID.replace("'", "&#x27;") in response.content.decode()
    assert not Invoice.objects.filter(client=ana, kind="credit").exists()
    purchase.refresh_from_db()
    assert purchase.sessions_refunded == 0
    # and the service itself refuses, with the message a caller can match
    with pytest.raises(ValidationError) as exc:
        package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=2, reason="Unused")
    assert exc.value.messages == [PACKAGE_REFUND_NOT_PAID]


@pytest.mark.parametrize(("used", "refunded"), [(1, 0), (0, 2)])
def test_a_package_invoice_cannot_be_voided_once_sessions_were_used_or_refunded(tenant, package, ana, used, refunded):
    # Given a sold package with a session drawn, or sessions refunded
    purchase = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller)
    PackagePurchase.objects.filter(pk=purchase.pk).update(sessions_used=used, sessions_refunded=refunded)
    # When the biller voids its invoice
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:invoice_void", invoice_id=purchase.invoice_id), {"reason": "Mistake"}, follow=True
    )
    # Then it is refused with the way to do it (a credit invoice), and the invoice stays open
    assert VOID_PACKAGE_USED.replace("'", "&#x27;") in response.content.decode()
    purchase.invoice.refresh_from_db()
    assert purchase.invoice.status == "open"
    assert ClientAccount.objects.get(client=ana).balance == Decimal("1350.000")


def test_an_unused_unpaid_package_invoice_can_be_voided(tenant, package, ana):
    purchase = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller)
    signed_in(tenant.biller).post(
        url(tenant, "billing:invoice_void", invoice_id=purchase.invoice_id), {"reason": "Sold by mistake"}
    )
    purchase.invoice.refresh_from_db()
    assert purchase.invoice.status == "void"
    assert ClientAccount.objects.get(client=ana).balance == 0
    assert package_summary(tenant.practice, ana).sessions_left == 0


def test_refunds_of_a_package_add_up_exactly_to_its_price(tenant, service, ana):
    # Given a paid package of 3 sessions for 100.00 (33.333... a session)
    three = Package.objects.create(
        practice=tenant.practice, name="Three", service=service, sessions=3, price=Decimal("100.00")
    )
    purchase = paid_package(tenant.practice, ana, tenant.biller, three)
    # When all 3 sessions are refunded at once, then the credit is 100.00, not 3 x 33.33
    credit = package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=3, reason="Moved")
    assert credit.total == Decimal("-100.00")
    (line,) = credit.lines.all()
    assert (line.units, line.unit_price) == (Decimal("1"), Decimal("-100.00"))
    assert "3 unused sessions" in line.description


def test_refunds_one_by_one_after_a_used_session_add_up_to_the_price(tenant, service, ana):
    # Given a paid package of 3 sessions for 100.00, one of them used
    three = Package.objects.create(
        practice=tenant.practice, name="Three", service=service, sessions=3, price=Decimal("100.00")
    )
    purchase = paid_package(tenant.practice, ana, tenant.biller, three)
    PackagePurchase.objects.filter(pk=purchase.pk).update(sessions_used=1)
    # When the other two are refunded one at a time
    first = package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=1, reason="Moved")
    second = package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=1, reason="Moved")
    # Then the shares are 66.67 - 33.33 and 100.00 - 66.67: with the used session's 33.33
    # they make exactly 100.00
    assert (first.total, second.total) == (Decimal("-33.34"), Decimal("-33.33"))
    assert Decimal("33.33") - first.total - second.total == Decimal("100.00")
    assert ClientAccount.objects.get(client=ana).credit_balance == Decimal("66.67")


def test_a_refund_locks_practice_then_client_then_invoice_then_purchase(tenant, package, ana):
    purchase = paid_package(tenant.practice, ana, tenant.biller, package)
    with CaptureQueriesContext(connection) as queries:
        package_refund_unused(purchase=purchase, actor=tenant.biller, sessions=1, reason="Unused")
    locked = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"] or "FOR NO KEY UPDATE" in q["sql"]]
    tables = []
    for sql in locked[:4]:
        table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
        tables.append(table)
    assert tables == ["practice_practice", "billing_clientaccount", "billing_invoice", "billing_packagepurchase"]


@pytest.mark.parametrize("name", ["billing:packages", "billing:package_new"])
def test_clinicians_get_403(tenant, name):
    assert signed_in(tenant.clinician).get(url(tenant, name)).status_code == 403


def test_clinicians_cannot_sell_or_refund(tenant, package, ana):
    purchase = package_sell(practice=tenant.practice, client=ana, package=package, actor=tenant.biller)
    clinician = signed_in(tenant.clinician)
    assert clinician.get(url(tenant, "billing:package_sell", client_id=ana.pk)).status_code == 403
    assert clinician.post(url(tenant, "billing:package_refund", purchase_id=purchase.pk)).status_code == 403
