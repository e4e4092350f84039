"""Issue 17: Payouts reconciliation. Payments taken online, a refund and a dispute at the
fake Stripe (over real HTTP), a payout of them, read into the app from payout.* webhooks or
Refresh from Stripe; the report agrees with Stripe to the cent and says in words what
does not match: a charge at Stripe the app does not know, a payment the app recorded that
no payout holds. Reading twice writes nothing twice."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from billing.models import Payment
from billing.submission import submission_key_new
from payments import payout_report, refunds
from payments.models import Payout, PayoutLine, StripeAccount
from payments.payouts import PAYOUTS_NO_ACCOUNT, PAYOUTS_READ
from tests.factories import ClientFactory
from tests.factories.payments import online_payment
from tests.helpers import signed_in, url

from .conftest import CONNECT_SECRET, PLATFORM_SECRET
from .online import deliver, paid_online, stripe_events

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = PLATFORM_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET


def client_named(tenant, first: str):
    return ClientFactory(practice=tenant.practice, first_name=first, last_name="Test")


@pytest.fixture
def month_of_card_payments(app_on_fake, tenant, django_capture_on_commit_callbacks):
    """Ana paid $230 online, Ben $100 (then $40 of it refunded through Stripe), Cleo $60
    (then disputed); the app recorded each from Stripe's state and the dispute from its
    webhook. Stripe kept 2.9% + 30c of each charge and $15 for the dispute."""
    ana = paid_online(app_on_fake, tenant, "150.00", "80.00", client=client_named(tenant, "Ana"))
    ben = paid_online(app_on_fake, tenant, "100.00", client=client_named(tenant, "Ben"))
    cleo = paid_online(app_on_fake, tenant, "60.00", client=client_named(tenant, "Cleo"))
    attempt = refunds.stripe_refund_start(
        payment=ben.payment,
        actor=tenant.biller,
        amount=D("40.00"),
        reason="Session cancelled",
        expected=None,
        submission_key=submission_key_new(),
        result_url="/",
    )
    assert refunds.stripe_refund_send(attempt).status == "succeeded"
    app_on_fake.control.open_dispute(cleo.charge)
    deliver(stripe_events(app_on_fake, "charge.dispute."), django_capture_on_commit_callbacks)
    cleo.payment.refresh_from_db()
    assert cleo.payment.dispute_status == Payment.DisputeStatus.OPEN
    return ana, ben, cleo


def report_page(user, tenant, **query) -> str:
    response = signed_in(user).get(url(tenant, "payments:payouts_reconciliation"), query)
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def texts_of(page: str, testid: str, tag: str) -> list[str]:
    return [text(m) for m in re.findall(rf'<{tag} [^>]*data-testid="{testid}"[^>]*>(.*?)</{tag}>', page, re.S)]


def refresh(user, tenant, **period):
    return signed_in(user).post(url(tenant, "payments:payouts_refresh"), period, follow=True)


def payout_rows() -> list[tuple]:
    return sorted(Payout.objects.values_list("stripe_payout_id", "amount", "status", "practice_id"))


def line_rows() -> list[tuple]:
    return sorted(
        PayoutLine.objects.values_list("stripe_balance_transaction_id", "payout__stripe_payout_id", "kind", "net")
    )


def test_a_payout_read_from_its_webhooks_agrees_with_stripe_to_the_cent(
    app_on_fake, tenant, month_of_card_payments, django_capture_on_commit_callbacks
):
    ana, _ben, _cleo = month_of_card_payments
    payout = app_on_fake.control.payout(ana.account)
    assert payout["amount"] == 39000 - 4000 - 6000 - (697 + 320 + 204 + 1500)

    deliver(stripe_events(app_on_fake, "payout."), django_capture_on_commit_callbacks)

    page = report_page(tenant.owner, tenant)
    assert texts_of(page, "payouts-verdict", "p") == ["Everything matches Practica's records."]
    (totals,) = texts_of(page, "payouts-totals", "table")
    assert totals == "Totals of the range Payments Fees Refunds Disputes Other Net paid out " + (
        "$390.00 -$27.21 -$40.00 -$60.00 $0.00 $262.79"
    )
    (check,) = texts_of(page, "payout-check", "span")
    assert check == "Matches"
    lines = texts_of(page, "payout-line", "tr")
    assert len(lines) == 5 and all(line.endswith("Matches") for line in lines)
    assert any("Payment" in line and "Ana Test" in line and "$230.00 -$6.97 $223.03" in line for line in lines)
    assert any("Refund" in line and "-$40.00 $0.00 -$40.00" in line for line in lines)
    assert any("Dispute" in line and "Cleo Test" in line and "-$60.00 -$15.00 -$75.00" in line for line in lines)
    assert texts_of(page, "unpaid-row", "tr") == []


def test_a_charge_stripe_has_and_the_app_does_not_is_flagged_in_words(
    app_on_fake, tenant, month_of_card_payments, django_capture_on_commit_callbacks
):
    ana, _ben, _cleo = month_of_card_payments
    # A charge made at Stripe outside the app (someone charged the card in Stripe's dashboard).
    customer = app_on_fake.client().v1.customers.create({"email": "p@example.test"}, ana.options)
    app_on_fake.client().v1.payment_intents.create(
        {
            "amount": 5000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "off_session": True,
        },
        ana.options,
    )
    # And a card payment the app recorded ten days ago that Stripe never paid out.
    old, _details = online_payment(tenant.practice, client_named(tenant, "Dora"), "45.00")
    Payment.objects.filter(pk=old.pk).update(received_on=tenant.practice.local_today() - timedelta(days=10))
    app_on_fake.control.payout(ana.account)

    response = refresh(tenant.biller, tenant)

    assert PAYOUTS_READ.format(count=1, s="") in response.content.decode()
    page = report_page(tenant.biller, tenant)
    (verdict,) = texts_of(page, "payouts-verdict", "p")
    assert verdict == "Does not match: 2 things to check. Each is said below."
    (check,) = texts_of(page, "payout-check", "span")
    assert check == "Does not match: 1 to check"
    flagged = [line for line in texts_of(page, "payout-line", "tr") if "Does not match" in line]
    (unknown,) = flagged
    assert "$50.00" in unknown and payout_report.NO_PAYMENT in unknown
    (dora,) = texts_of(page, "unpaid-row", "tr")
    assert "Dora Test" in dora and "$45.00" in dora and "Does not match: In no payout" in dora


def test_refreshing_twice_writes_nothing_twice_and_rereads_no_paid_payout(
    app_on_fake, tenant, month_of_card_payments, django_capture_on_commit_callbacks
):
    ana, _ben, _cleo = month_of_card_payments
    app_on_fake.control.payout(ana.account)
    deliver(stripe_events(app_on_fake, "payout."), django_capture_on_commit_callbacks)
    once = (payout_rows(), line_rows())
    assert len(once[0]) == 1 and len(once[1]) == 5

    asked_before = len(app_on_fake.control.requests())
    refresh(tenant.owner, tenant)
    refresh(tenant.owner, tenant)
    deliver(stripe_events(app_on_fake, "payout."), django_capture_on_commit_callbacks)

    assert (payout_rows(), line_rows()) == once
    asked = [r["path"] for r in app_on_fake.control.requests()[asked_before:]]
    # The paid payout's lines were read once: later refreshes list payouts only.
    assert "/v1/balance_transactions" not in asked and asked.count("/v1/payouts") == 2


def test_a_later_payout_and_a_date_range(app_on_fake, tenant, month_of_card_payments):
    ana, _ben, _cleo = month_of_card_payments
    first = app_on_fake.control.payout(ana.account)
    paid_online(app_on_fake, tenant, "75.00", client=client_named(tenant, "Eli"))
    app_on_fake.control.payout(ana.account)
    refresh(tenant.owner, tenant)
    # The first payout was made "yesterday" in the practice's time zone. It is picked by its
    # Stripe id: both payouts are usually made within the same second, so ordering by
    # their created time cannot tell them apart.
    moved = Payout.objects.filter(stripe_payout_id=first["id"]).update(created=timezone.now() - timedelta(days=1))
    assert moved == 1
    today = tenant.practice.local_today()

    both = report_page(tenant.owner, tenant)
    only_today = report_page(tenant.owner, tenant, date_from=today.isoformat(), date_to=today.isoformat())

    assert len(texts_of(both, "payout", "details")) == 2
    assert len(texts_of(only_today, "payout", "details")) == 1
    assert "$75.00" in only_today and "Eli Test" in only_today and "Ana Test" not in only_today


def test_export_csv_has_each_payout_and_its_lines(
    app_on_fake, tenant, month_of_card_payments, django_capture_on_commit_callbacks
):
    ana, _ben, _cleo = month_of_card_payments
    payout = app_on_fake.control.payout(ana.account)
    refresh(tenant.owner, tenant)

    response = signed_in(tenant.owner).get(url(tenant, "payments:payouts_reconciliation"), {"format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="payouts-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["Row"] for r in rows] == ["Payout", "Line", "Line", "Line", "Line", "Line"]
    head = rows[0]
    assert (head["Payout"], head["Amount"], head["Fee"], head["Net"], head["Matches"]) == (
        payout["id"],
        "390.00",
        "27.21",
        "262.79",
        "yes",
    )
    assert sum(D(r["Net"]) for r in rows[1:]) == D("262.79")
    assert {r["Type"] for r in rows[1:]} == {"Payment", "Refund", "Dispute"}
    assert all(r["Matches"] == "yes" and r["Payout"] == payout["id"] for r in rows[1:])


def test_a_practice_without_stripe_is_told_and_nothing_is_read(tenant):
    page = report_page(tenant.owner, tenant)
    assert 'data-testid="payouts-no-account"' in page

    response = refresh(tenant.owner, tenant)

    assert escape(PAYOUTS_NO_ACCOUNT) in response.content.decode()
    assert not Payout.objects.exists()


def test_billers_may_open_it_clinicians_may_not(tenant):
    assert signed_in(tenant.biller).get(url(tenant, "payments:payouts_reconciliation")).status_code == 200
    assert signed_in(tenant.admin).get(url(tenant, "payments:payouts_reconciliation")).status_code == 200
    for path in (url(tenant, "payments:payouts_reconciliation"), url(tenant, "payments:payouts_refresh")):
        assert signed_in(tenant.clinician).get(path).status_code in (403, 405)
    assert signed_in(tenant.clinician).post(url(tenant, "payments:payouts_refresh")).status_code == 403


def test_a_bad_range_is_said_and_the_report_shows_the_last_30_days(tenant):
    response = signed_in(tenant.owner).get(
        url(tenant, "payments:payouts_reconciliation"), {"date_from": "2026-03-10", "date_to": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_another_practices_payouts_are_not_shown(app_on_fake, tenant, other_tenant, month_of_card_payments):
    ana, _ben, _cleo = month_of_card_payments
    app_on_fake.control.payout(ana.account)
    refresh(tenant.owner, tenant)
    StripeAccount.objects.create(
        practice=other_tenant.practice, stripe_account_id="acct_1OtherPractice00", charges_enabled=True
    )

    page = report_page(other_tenant.owner, other_tenant)

    assert texts_of(page, "payout", "details") == []
    assert "Ana Test" not in page


def count_queries(user, tenant) -> int:
    browser = signed_in(user)
    report = url(tenant, "payments:payouts_reconciliation")
    browser.get(report)
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(report).status_code == 200
    return len(queries)


def test_the_report_reads_a_fixed_number_of_queries(app_on_fake, tenant, month_of_card_payments):
    ana, _ben, _cleo = month_of_card_payments
    app_on_fake.control.payout(ana.account)
    refresh(tenant.owner, tenant)
    few = count_queries(tenant.owner, tenant)
    for first in ("Fay", "Gus", "Hal"):
        paid_online(app_on_fake, tenant, "20.00", client=client_named(tenant, first))
        app_on_fake.control.payout(ana.account)
    online_payment(tenant.practice, client_named(tenant, "Ivy"), "10.00")
    refresh(tenant.owner, tenant)
    assert Payout.objects.count() == 4

    assert count_queries(tenant.owner, tenant) == few


def test_stripe_not_answering_is_said_and_nothing_is_written(app_on_fake, tenant, month_of_card_payments):
    ana, _ben, _cleo = month_of_card_payments
    app_on_fake.control.payout(ana.account)
    app_on_fake.control.fail_next("500", count=5, path="/v1/balance_transactions")

    response = refresh(tenant.owner, tenant)

    assert "Stripe did not answer, so nothing was read" in response.content.decode()
    assert not Payout.objects.exists() and not PayoutLine.objects.exists()
    app_on_fake.control.clear_faults()
    refresh(tenant.owner, tenant)
    assert Payout.objects.count() == 1 and PayoutLine.objects.count() == 5


def test_the_payments_tab_links_the_report_and_the_card_charges(tenant):
    payments_tab = signed_in(tenant.biller).get(url(tenant, "billing:payments")).content.decode()
    links = re.search(r'data-testid="payments-tab-links">(.*?)</p>', payments_tab, re.S)
    assert links and url(tenant, "payments:payouts_reconciliation") in links.group(1)
    assert url(tenant, "payments:card_charges") in links.group(1)
    invoices_tab = signed_in(tenant.biller).get(url(tenant, "billing:invoices")).content.decode()
    assert 'data-testid="payments-tab-links"' not in invoices_tab


def test_the_database_refuses_a_line_whose_net_is_not_amount_less_fee_and_a_second_copy(
    app_on_fake, tenant, month_of_card_payments
):
    ana, _ben, _cleo = month_of_card_payments
    app_on_fake.control.payout(ana.account)
    refresh(tenant.owner, tenant)
    line = PayoutLine.objects.filter(kind=PayoutLine.Kind.PAYMENT).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLine.objects.filter(pk=line.pk).update(net=line.net + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLine.objects.create(
            **{f.attname: getattr(line, f.attname) for f in PayoutLine._meta.concrete_fields if f.name != "id"}
        )
    payout = Payout.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(
            **{f.attname: getattr(payout, f.attname) for f in Payout._meta.concrete_fields if f.name != "id"}
        )
