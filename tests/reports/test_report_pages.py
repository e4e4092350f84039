"""The Reports page and its four reports, read as an owner and as a clinician, on the story
of tests/reports/story.py (figures worked out by hand there)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.models import ClientAccount
from practice.models import Practice
from reports import forms
from reports.selectors import revenue as revenue_module
from tests.factories import ClientFactory, issued_invoice, online_payment, pay
from tests.helpers import signed_in, url
from tests.reports.pages import csv_rows, errors, figure, rows

pytestmark = pytest.mark.django_db


def get(user, tenant, name: str, **query: object):
    response = signed_in(user).get(url(tenant, f"reports:{name}"), query)
    return response


def page(user, tenant, name: str, **query: object) -> str:
    response = get(user, tenant, name, **query)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


# --- the Reports page -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "biller", "clinician"])
def test_every_role_finds_the_four_reports_from_the_main_navigation(tenant, role):
    user = tenant.member(role)
    home = page(user, tenant, "home")
    reports_url = url(tenant, "reports:home")
    assert f'<a href="{reports_url}" aria-current="page">Reports</a>' in home
    for name, label in (
        ("aging", "Aging"),
        ("revenue", "Revenue"),
        ("payments", "Payments"),
        ("balances", "Outstanding balances and credits"),
    ):
        assert f'<a href="{url(tenant, f"reports:{name}")}">{label}</a>' in home


def test_payouts_reconciliation_from_payments_is_listed_only_to_billing_roles(tenant):
    payouts_url = url(tenant, "payments:payouts_reconciliation")
    assert f'<a href="{payouts_url}">Payouts reconciliation</a>' in page(tenant.biller, tenant, "home")
    assert "Payouts reconciliation" not in page(tenant.clinician, tenant, "home")


# --- Aging ------------------------------------------------------------------------------------


def test_aging_puts_each_open_balance_in_the_bucket_of_its_invoices_age(tenant, story):
    aging = page(tenant.owner, tenant, "aging")
    assert figure(aging, "bucket-d0") == "$160.00"
    assert figure(aging, "bucket-d31") == "$170.00"
    assert figure(aging, "bucket-d61") == "$0.00"
    assert figure(aging, "bucket-d91") == "$120.00"
    assert figure(aging, "aging-total") == "$450.00"
    assert rows(aging, "aging-row") == [
        ["Ben Jones", "1", "$0.00", "$170.00", "$0.00", "$0.00", "$170.00"],
        ["Cara Lee", "1", "$160.00", "$0.00", "$0.00", "$0.00", "$160.00"],
        ["Ana Smith", "1", "$0.00", "$0.00", "$0.00", "$120.00", "$120.00"],
    ]
    assert "days since its issue date" in aging
    # The chart draws the four buckets, each bar labelled with its amount.
    assert aging.count('class="chart-bar"') == 4
    assert '<text class="chart-value"' in aging and ">$170.00</text>" in aging


def test_a_clinician_sees_only_their_sessions_share_of_what_is_owed(tenant, story):
    aging = page(tenant.clinician, tenant, "aging")
    # Ana's invoice is all Clara's; Cara's is 120 of 320 hers: 160 x 0.375 = 60.
    assert rows(aging, "aging-row") == [
        ["Ana Smith", "1", "$0.00", "$0.00", "$0.00", "$120.00", "$120.00"],
        ["Cara Lee", "1", "$60.00", "$0.00", "$0.00", "$0.00", "$60.00"],
    ]
    assert figure(aging, "aging-total") == "$180.00"
    assert "Ben Jones" not in aging
    assert 'name="clinician"' not in aging
    assert figure(aging, "report-scope").startswith("Your sessions' share of each invoice")


def test_an_owner_may_narrow_a_report_to_one_clinician(tenant, story):
    aging = page(tenant.owner, tenant, "aging", clinician=tenant.clinician2.pk)
    assert figure(aging, "aging-total") == "$270.00"
    assert [row[0] for row in rows(aging, "aging-row")] == ["Ben Jones", "Cara Lee"]
    assert figure(aging, "report-scope").startswith("Daniel Test's sessions' share of each invoice")


def test_aging_from_and_to_choose_the_invoices_by_issue_date(tenant, story):
    since = story.today - timedelta(days=50)
    aging = page(tenant.owner, tenant, "aging", date_from=since.isoformat(), date_to="")
    assert figure(aging, "aging-total") == "$330.00"
    assert "Ana Smith" not in aging


# --- Revenue ----------------------------------------------------------------------------------


def test_revenue_sets_invoiced_against_collected_with_credits_refunds_and_write_offs(tenant, story):
    start = story.today - timedelta(days=120)
    revenue = page(tenant.owner, tenant, "revenue", date_from=start.isoformat(), date_to=story.today.isoformat())
    assert figure(revenue, "total-invoiced") == "$720.00"
    assert figure(revenue, "total-net-billed") == "$610.00"
    assert figure(revenue, "total-collected") == "$210.00"
    assert figure(revenue, "total-net-collected") == "$190.00"
    assert rows(revenue, "revenue-months-total") == [
        ["Total", "$720.00", "$30.00", "$80.00", "$610.00", "$210.00", "$20.00", "$190.00"]
    ]
    # One row per month of the range, months with nothing included.
    assert len(rows(revenue, "revenue-months-row")) == len(forms.Period(start, story.today).months())
    assert rows(revenue, "revenue-clinicians-row") == [
        ["Clara Test", "$240.00", "$0.00", "$0.00", "$240.00", "$60.00", "$0.00", "$60.00"],
        ["Daniel Test", "$400.00", "$0.00", "$0.00", "$400.00", "$150.00", "$20.00", "$130.00"],
        [revenue_module.NO_CLINICIAN, "$80.00", "$30.00", "$80.00", "-$30.00", "$0.00", "$0.00", "$0.00"],
    ]
    assert rows(revenue, "revenue-services-row") == [
        ["Couples therapy", "$400.00", "$0.00", "$0.00", "$400.00", "$150.00", "$20.00", "$130.00"],
        ["Individual therapy", "$240.00", "$0.00", "$0.00", "$240.00", "$60.00", "$0.00", "$60.00"],
        [revenue_module.NO_SERVICE, "$80.00", "$30.00", "$80.00", "-$30.00", "$0.00", "$0.00", "$0.00"],
    ]
    assert revenue.count('class="chart-bar"') == 2 * len(forms.Period(start, story.today).months())


def test_a_clinician_sees_their_own_revenue_only(tenant, story):
    start = story.today - timedelta(days=120)
    revenue = page(tenant.clinician, tenant, "revenue", date_from=start.isoformat(), date_to=story.today.isoformat())
    assert figure(revenue, "total-invoiced") == "$240.00"
    assert figure(revenue, "total-collected") == "$60.00"
    assert rows(revenue, "revenue-clinicians-row") == [
        ["Clara Test", "$240.00", "$0.00", "$0.00", "$240.00", "$60.00", "$0.00", "$60.00"]
    ]
    assert "Daniel" not in revenue.split('data-testid="revenue-months"')[1]


def test_an_overpayment_kept_as_credit_is_collected_on_no_invoice(tenant, story):
    invoice = issued_invoice(tenant.practice, story.ana, tenant.biller, "10.00")
    pay(tenant.practice, story.ana, tenant.biller, "25.00", to_credit=True, allocations={invoice.pk: Decimal("10")})
    revenue = page(tenant.owner, tenant, "revenue")
    on_no_invoice = [r for r in rows(revenue, "revenue-clinicians-row") if r[0].startswith("Not on an invoice")]
    assert on_no_invoice == [[on_no_invoice[0][0], "$0.00", "$0.00", "$0.00", "$0.00", "$15.00", "$0.00", "$15.00"]]


# --- Payments ---------------------------------------------------------------------------------


def test_payments_by_method_and_by_day_with_stripes_fees(tenant, story):
    start = story.today - timedelta(days=60)
    payments = page(tenant.owner, tenant, "payments", date_from=start.isoformat(), date_to=story.today.isoformat())
    assert rows(payments, "payments-methods-row") == [
        ["Card online", "1", "$160.00", "$0.00", "$4.94", "$155.06"],
        ["Cash", "1", "$50.00", "$20.00", "$0.00", "$30.00"],
    ]
    assert rows(payments, "payments-methods-total") == [["Total", "2", "$210.00", "$20.00", "$4.94", "$185.06"]]
    days = rows(payments, "payments-days-row")
    assert [row[1:] for row in days] == [
        ["1", "$50.00", "$0.00", "$0.00", "$50.00"],
        ["1", "$160.00", "$20.00", "$4.94", "$135.06"],
    ]
    assert figure(payments, "total-fees") == "$4.94"


def test_a_clinicians_payments_are_their_share_of_what_paid_their_invoices(tenant, story):
    start = story.today - timedelta(days=60)
    payments = page(tenant.clinician, tenant, "payments", date_from=start.isoformat(), date_to=story.today.isoformat())
    # 60 of Cara's 160 paid Clara's lines; the fee is split the same way (4.94 x 60/160).
    assert rows(payments, "payments-methods-row") == [["Card online", "1", "$60.00", "$0.00", "$1.85", "$58.15"]]


def test_an_online_payment_whose_fee_stripe_has_not_reported_is_said(tenant, story):
    online_payment(tenant.practice, story.ben, "10.00", fee=None)
    payments = page(tenant.owner, tenant, "payments")
    assert "Stripe has not reported the fee of 1 online payment yet" in figure(payments, "fees-unknown")


# --- Outstanding balances and credits ----------------------------------------------------------


def test_balances_show_what_each_client_owes_is_overdue_and_holds_in_credit(tenant, story):
    balances = page(tenant.owner, tenant, "balances")
    by_client = {row[0]: row for row in rows(balances, "balances-row")}
    assert by_client["Ana Smith"][3:] == ["$120.00", "$120.00", "$30.00", "$90.00"]
    assert by_client["Ben Jones"][3:] == ["$170.00", "$170.00", "$0.00", "$170.00"]
    assert by_client["Cara Lee"][3:] == ["$160.00", "$0.00", "$0.00", "$160.00"]
    assert figure(balances, "total-owed") == "$450.00"
    assert figure(balances, "total-overdue") == "$290.00"
    assert figure(balances, "total-credit") == "$30.00"
    # Owed and credit are each client's account, the sums of their ledger.
    for account in ClientAccount.objects.filter(practice=tenant.practice, client__in=[story.ana, story.ben]):
        name = account.client.display_name
        assert by_client[name][3] == f"${account.balance:.2f}"
        assert by_client[name][5] == f"${account.credit_balance:.2f}"


def test_a_clinicians_balances_leave_out_credit_which_is_the_clients(tenant, story):
    balances = page(tenant.clinician, tenant, "balances")
    assert figure(balances, "total-owed") == "$180.00"
    assert 'data-testid="total-credit"' not in balances
    assert "shown only for the whole practice" in figure(balances, "no-credit-note")


# --- bad filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("revenue", {"date_from": "2025-03-01", "date_to": "2025-02-01"}, forms.DATE_ORDER),
        ("aging", {"date_from": "2025-03-01", "date_to": "2025-02-01"}, forms.DATE_ORDER),
        ("payments", {"date_from": "yesterday", "date_to": "2025-02-01"}, forms.DATE_UNREADABLE),
        ("balances", {"date_from": "2025-02-30"}, forms.DATE_UNREADABLE),
        ("revenue", {"date_from": "2019-01-01", "date_to": "2024-01-01"}, forms.RANGE_TOO_LONG),
        ("payments", {"date_from": "2025-01-01", "date_to": ""}, forms.BOTH_DATES),
        ("aging", {"clinician": "987654321"}, forms.CLINICIAN_UNKNOWN),
    ],
)
def test_filters_that_make_no_sense_get_a_message_and_no_figures(tenant, story, name, query, message):
    for wanted in ("", "csv"):
        response = get(tenant.owner, tenant, name, **query, **({"format": wanted} if wanted else {}))
        assert response.status_code == 400
        body = response.content.decode()
        assert message in errors(body)
        assert 'data-testid="report-refused"' in body
        assert "$450.00" not in body and "$720.00" not in body
        assert 'data-testid="export-csv"' not in body


def test_five_years_to_the_day_less_one_is_the_longest_range(tenant, story):
    assert get(tenant.owner, tenant, "revenue", date_from="2020-01-01", date_to="2024-12-31").status_code == 200
    assert get(tenant.owner, tenant, "revenue", date_from="2020-01-01", date_to="2025-01-01").status_code == 400


def test_another_practices_clinician_is_not_a_choice(tenant, other_tenant, story):
    response = get(tenant.owner, tenant, "revenue", clinician=other_tenant.clinician.pk)
    assert response.status_code == 400
    assert forms.CLINICIAN_UNKNOWN in errors(response.content.decode())


def test_a_clinician_cannot_ask_for_a_colleagues_figures(tenant, story):
    aging = page(tenant.clinician, tenant, "aging", clinician=tenant.clinician2.pk)
    assert figure(aging, "aging-total") == "$180.00"


def test_no_report_shows_the_other_practices_money(tenant, story):
    for name in ("aging", "revenue", "payments", "balances"):
        body = page(tenant.owner, tenant, name)
        assert "9,999" not in body and "9999" not in body


# --- CSV ----------------------------------------------------------------------------------------


def test_each_report_downloads_its_figures_as_csv(tenant, story):
    start, end = (story.today - timedelta(days=120)).isoformat(), story.today.isoformat()
    aging = csv_rows(get(tenant.owner, tenant, "aging", format="csv"))
    assert aging[0] == ["Client", "Open invoices", "0–30 days", "31–60 days", "61–90 days", "Over 90 days", "Total"]  # noqa: RUF001
    assert aging[1:] == [
        ["Ben Jones", "1", "0.00", "170.00", "0.00", "0.00", "170.00"],
        ["Cara Lee", "1", "160.00", "0.00", "0.00", "0.00", "160.00"],
        ["Ana Smith", "1", "0.00", "0.00", "0.00", "120.00", "120.00"],
        ["Total", "3", "160.00", "170.00", "0.00", "120.00", "450.00"],
    ]
    revenue = csv_rows(get(tenant.owner, tenant, "revenue", format="csv", date_from=start, date_to=end))
    assert ["Month", "Total", "720.00", "30.00", "80.00", "610.00", "210.00", "20.00", "190.00"] in revenue
    assert ["Clinician", "Clara Test", "240.00", "0.00", "0.00", "240.00", "60.00", "0.00", "60.00"] in revenue
    payments = csv_rows(get(tenant.owner, tenant, "payments", format="csv", date_from=start, date_to=end))
    assert ["Method", "Card online", "1", "160.00", "0.00", "4.94", "155.06"] in payments
    assert payments[-1] == ["Total", "Total", "2", "210.00", "20.00", "4.94", "185.06"]
    balances = csv_rows(get(tenant.owner, tenant, "balances", format="csv"))
    assert balances[0][-2:] == ["Credit", "Owed less credit"]
    assert [
        "Ana Smith",
        "1",
        (story.today - timedelta(days=100)).isoformat(),
        "120.00",
        "120.00",
        "30.00",
        "90.00",
    ] in (balances)
    # A clinician's download is their own figures, as their page.
    theirs = csv_rows(get(tenant.clinician, tenant, "aging", format="csv"))
    assert theirs[-1] == ["Total", "2", "60.00", "0.00", "0.00", "120.00", "180.00"]


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_written_as_text(tenant):
    client = ClientFactory(practice=tenant.practice, first_name="=HYPERLINK(1)", last_name="X")
    issued_invoice(tenant.practice, client, tenant.biller, "40.00")
    aging = csv_rows(get(tenant.owner, tenant, "aging", format="csv"))
    assert aging[1][0] == "'=HYPERLINK(1) X"


def test_amounts_are_in_the_practices_currency_and_locale(tenant):
    Practice.objects.filter(pk=tenant.practice.pk).update(currency="EUR", locale="de_DE")
    tenant.practice.refresh_from_db()
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")
    issued_invoice(tenant.practice, client, tenant.biller, "1234.50")
    aging = page(tenant.owner, tenant, "aging")
    assert figure(aging, "aging-total") == "1.234,50 €"  # a no-break space before the sign, as de_DE writes it
    assert "1.234,50\xa0€" in aging
    assert "amounts in EUR" in aging
    assert csv_rows(get(tenant.owner, tenant, "aging", format="csv"))[-1][-1] == "1234.50"
