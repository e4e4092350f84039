"""Settings > Invoice reminders and Send reminder on the invoice page (issue 13 part 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from billing import reminders, services
from billing.models import Invoice, InvoiceReminder, ReminderRule
from billing.submission import ALREADY_RECORDED, FIELD, submission_key_new
from billing.views.reminders import REMINDER_RULES_INVALID, REMINDER_RULES_SAVED, REMINDER_SENT
from practice.models import OutgoingEmail, Role
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def rules_post(rules: list[dict], initial: int) -> dict[str, str]:
    """The settings form as the page posts it: ``rules`` in order, the first ``initial``
    of them shown rules, plus the blank row for a new one."""
    data = {
        "rules-TOTAL_FORMS": str(len(rules) + 1),
        "rules-INITIAL_FORMS": str(initial),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "20",
    }
    for i, r in enumerate([*rules, {"kind": "before_due"}]):
        for field in ("rule_id", "kind", "days", "repeat_times", "subject", "message"):
            data[f"rules-{i}-{field}"] = str(r.get(field) if r.get(field) is not None else "")
        if r.get("enabled"):
            data[f"rules-{i}-enabled"] = "on"
    return data


def default_rows() -> list[dict]:
    return [
        {
            "kind": r.kind,
            "days": r.days,
            "repeat_times": r.repeat_times,
            "enabled": r.enabled,
            "subject": r.subject,
            "message": r.message,
        }
        for r in reminders.default_rules()
    ]


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owner_and_admin_see_the_suggested_rules_until_they_save(tenant, role):
    page = signed_in(tenant.member(role)).get(url(tenant, "billing:reminder_rules"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "nothing is sent until you save them" in html
    assert html.count('data-testid="reminder-rule"') == 5  # four suggested and a blank one
    assert "Invoice {invoice_number} is due today" in html
    assert "{amount_due}" in html  # the placeholders are listed


@pytest.mark.parametrize("role", [Role.BILLER, Role.CLINICIAN])
def test_other_roles_cannot_open_or_post_the_settings(tenant, role):
    browser = signed_in(tenant.member(role))
    assert browser.get(url(tenant, "billing:reminder_rules")).status_code == 403
    assert browser.post(url(tenant, "billing:reminder_rules"), rules_post(default_rows(), 4)).status_code == 403
    assert not ReminderRule.objects.exists()


def test_saving_the_suggested_rules_and_adding_one(tenant):
    rows = default_rows()
    rows[2]["days"] = 10  # 10 days after, not 7
    data = rules_post(rows, 4)
    data.update({"rules-4-kind": "before_due", "rules-4-days": "10", "rules-4-subject": "Early: {invoice_number}"})
    data.update({"rules-4-message": "Hello {client_name}", "rules-4-enabled": "on"})

    response = signed_in(tenant.owner).post(url(tenant, "billing:reminder_rules"), data, follow=True)

    assert REMINDER_RULES_SAVED in response.content.decode()
    saved = [(r.kind, r.days, r.repeat_times, r.enabled) for r in ReminderRule.objects.filter(practice=tenant.practice)]
    assert saved == [
        ("before_due", 3, None, True),
        ("on_due", 0, None, True),
        ("after_due", 10, None, True),
        ("repeat", 7, 3, True),
        ("before_due", 10, None, True),
    ]
    # The page now shows the saved rules, and the blank row again.
    assert response.content.decode().count('data-testid="reminder-rule"') == 6


def test_a_bad_rule_shows_its_reason_and_nothing_is_saved(tenant):
    rows = default_rows()
    rows[0]["message"] = "Hi {first_name}"
    rows[3]["repeat_times"] = "lots"

    response = signed_in(tenant.owner).post(url(tenant, "billing:reminder_rules"), rules_post(rows, 4))

    assert response.status_code == 400
    html = response.content.decode()
    assert REMINDER_RULES_INVALID in html
    assert "Unknown placeholder {first_name}. Use one of:" in html
    assert "Enter a whole number." in html
    assert not ReminderRule.objects.exists()


def test_turning_a_rule_off_keeps_it(tenant):
    saved = services.reminder_rules_save(practice=tenant.practice, actor=tenant.owner, rules=reminders.default_rules())
    rows = default_rows()
    for row, rule in zip(rows, saved, strict=True):
        row["rule_id"] = rule.pk
    rows[1]["enabled"] = False

    signed_in(tenant.owner).post(url(tenant, "billing:reminder_rules"), rules_post(rows, 4))

    assert [r.enabled for r in ReminderRule.objects.filter(practice=tenant.practice)] == [True, False, True, True]


# --- Send reminder ---------------------------------------------------------------------------


@pytest.fixture
def invoice(tenant) -> Invoice:
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    return issued_invoice(tenant.practice, ana, tenant.biller, "120.00")


def send(browser: Client, tenant, invoice: Invoice, key: str | None = None):
    return browser.post(
        url(tenant, "billing:invoice_send_reminder", invoice_id=invoice.pk),
        {FIELD: key or submission_key_new()},
        follow=True,
    )


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLER])
def test_send_reminder_emails_the_client_once_and_the_invoice_lists_it(
    tenant, invoice, role, django_capture_on_commit_callbacks
):
    from django.core import mail

    browser = signed_in(tenant.member(role))
    page = browser.get(invoice.get_absolute_url()).content.decode()
    assert "Send reminder" in page and "ana@mail.test" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = send(browser, tenant, invoice)

    html = response.content.decode()
    assert REMINDER_SENT.format(to="ana@mail.test") in html
    assert html.count('data-testid="invoice-reminder"') == 1 and "sent by hand" in html
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"Reminder: invoice {invoice.number}"
    assert "$120.00" in mail.outbox[0].body


def test_a_double_click_sends_one_reminder(tenant, invoice):
    browser = signed_in(tenant.biller)
    key = submission_key_new()

    send(browser, tenant, invoice, key)
    again = send(browser, tenant, invoice, key)

    assert ALREADY_RECORDED in again.content.decode()
    assert InvoiceReminder.objects.filter(invoice=invoice).count() == 1
    assert OutgoingEmail.objects.filter(topic="invoice_reminder").count() == 1


def test_a_clinician_cannot_send_a_reminder_nor_sees_the_button(tenant, invoice):
    invoice.client.clinicians.add(tenant.clinician)
    browser = signed_in(tenant.clinician)

    page = browser.get(invoice.get_absolute_url())
    assert page.status_code == 200 and "Send reminder" not in page.content.decode()
    assert send(browser, tenant, invoice).status_code == 403
    assert not InvoiceReminder.objects.exists()


def test_another_practices_invoice_is_not_found(tenant, other_tenant):
    theirs = issued_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.biller)
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:invoice_send_reminder", invoice_id=theirs.pk), {FIELD: submission_key_new()}
    )
    assert response.status_code == 404
    assert not InvoiceReminder.objects.exists()


def test_a_paid_invoice_offers_no_reminder_and_refuses_one(tenant, invoice):
    services.invoice_mark_paid(invoice=invoice, actor=tenant.biller, method="cash")
    browser = signed_in(tenant.biller)

    assert "Send reminder" not in browser.get(invoice.get_absolute_url()).content.decode()
    assert services.REMINDER_NOT_OPEN in send(browser, tenant, invoice).content.decode()
    assert not OutgoingEmail.objects.exists()


def test_without_an_address_the_button_is_disabled_with_the_reason(tenant):
    nobody = ClientFactory(practice=tenant.practice, email="")
    invoice = issued_invoice(tenant.practice, nobody, tenant.biller)
    Invoice.objects.filter(pk=invoice.pk).update(bill_to_email="")

    html = signed_in(tenant.biller).get(invoice.get_absolute_url()).content.decode()

    assert "No email address to send to" in html
    assert 'disabled aria-describedby="reminder-no-email"' in html


# --- the client's exclusion ------------------------------------------------------------------


def test_a_biller_excludes_a_client_on_their_settings_tab(tenant):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    browser = signed_in(tenant.biller)
    settings_url = url(tenant, "clients:settings", client_id=ana.pk)
    assert "Exclude from invoice reminders" in browser.get(settings_url).content.decode()

    data = {"first_name": "Ana", "last_name": "Lima", "email": ana.email, "reminders_excluded": "on"}
    response = browser.post(settings_url, data)

    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.reminders_excluded is True


def test_a_clinician_does_not_change_the_exclusion(tenant):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", reminders_excluded=True)
    ana.clinicians.add(tenant.clinician)
    browser = signed_in(tenant.clinician)
    settings_url = url(tenant, "clients:settings", client_id=ana.pk)
    assert "Exclude from invoice reminders" not in browser.get(settings_url).content.decode()

    data = {"first_name": "Ana", "last_name": "Lima", "email": ana.email, "clinicians": [tenant.clinician.pk]}
    assert browser.post(settings_url, data).status_code == 302

    ana.refresh_from_db()
    assert ana.reminders_excluded is True


@pytest.mark.parametrize(("locale", "shown"), [("en_US", "14 Mar 2026, 10:30 AM"), ("en_GB", "14 Mar 2026, 10:30")])
def test_the_invoice_page_shows_sends_and_reminders_in_the_practice_clock(
    tenant, invoice, locale, shown, django_capture_on_commit_callbacks
):
    # Given a New York practice that writes times its own way, and a reminder and an
    # invoice email both sent at 14:30 UTC on 14 March 2026 (10:30 in New York)
    tenant.practice.locale = locale
    tenant.practice.save(update_fields=["locale"])
    browser = signed_in(tenant.biller)
    with django_capture_on_commit_callbacks(execute=True):
        send(browser, tenant, invoice)
    sent_at = datetime(2026, 3, 14, 14, 30, tzinfo=UTC)
    InvoiceReminder.objects.filter(invoice=invoice).update(created_at=sent_at)
    OutgoingEmail.objects.update(created_at=sent_at)
    # When the biller opens the invoice
    html = browser.get(invoice.get_absolute_url()).content.decode()
    # Then the send log and the reminders list read the practice's clock, in its time zone
    assert f'<td data-label="When">{shown}</td>' in html
    assert f'<li data-testid="invoice-reminder">{shown} · to ana@mail.test' in html
    assert "14:30" not in html
