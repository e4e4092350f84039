"""Invoice reminders as a daily job (issue 16 part 3): at 09:00 in the practice's time
zone, every reminder the rules send that day goes out once; never about a paid, void or
disputed invoice nor to a client excluded from reminders; one failing invoice stops none
of the others, and the run records what it sent, skipped and failed."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing import reminders, selectors, services
from billing.models import Invoice, InvoiceReminder, Payment, ReminderRule
from billing.services import payment_dispute_update, payment_record_settled
from practice import jobs
from practice.actor import Actor
from practice.models import JobRun, OutgoingEmail
from tests.factories import ClientFactory, issued_invoice

pytestmark = pytest.mark.django_db

JOB = "invoice_reminders"
DUE = date(2026, 3, 16)
ISSUED = date(2026, 3, 2)


def due_on(invoice: Invoice, due: date = DUE) -> Invoice:
    Invoice.objects.filter(pk=invoice.pk).update(due_date=due, issue_date=ISSUED)
    invoice.refresh_from_db()
    return invoice


@pytest.fixture
def rules(tenant):
    """The suggested rules: 3 days before, on the day, 7 days after, then every 7 days x3."""
    return services.reminder_rules_save(practice=tenant.practice, actor=tenant.owner, rules=reminders.default_rules())


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


def open_invoice(tenant, client, amount="120.00", due: date = DUE) -> Invoice:
    return due_on(issued_invoice(tenant.practice, client, tenant.biller, amount), due)


def disputed_invoice(tenant, client) -> Invoice:
    """An invoice paid in part online, that payment's dispute open: 60.00 still owed."""
    invoice = open_invoice(tenant, client, "100.00")
    payment = payment_record_settled(
        practice=tenant.practice,
        client=client,
        amount=Decimal("40.00"),
        currency=tenant.practice.currency,
        method=Payment.Method.CARD_ONLINE,
        external_id=f"pi_{invoice.pk}",
        allocations={invoice.pk: Decimal("40.00")},
    ).payment
    payment_dispute_update(payment=payment, status="open", dispute_id=f"dp_{invoice.pk}")
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("60.000")
    return invoice


def run_day(tenant, day: date = DUE) -> JobRun | None:
    return jobs.job_run(practice_id=tenant.practice.pk, job_name=JOB, local_date=day)


def reminder_emails() -> list[tuple[str, str]]:
    return list(
        OutgoingEmail.objects.filter(key__startswith="invoice-reminder:").order_by("pk").values_list("to", "subject")
    )


def test_each_reminder_due_that_day_goes_out_once(tenant, rules, ana):
    invoice = open_invoice(tenant, ana)
    # And one due in three days gets its "before" reminder the same day
    soon = open_invoice(tenant, ana, "80.00", due=date(2026, 3, 19))

    run = run_day(tenant)

    assert run is not None and run.status == "succeeded"
    assert run.counts == {"sent": 2, "skipped": 0, "failed": 0}
    assert sorted(reminder_emails()) == sorted(
        [
            ("ana@mail.test", f"Invoice {invoice.number} is due today"),
            ("ana@mail.test", f"Invoice {soon.number} is due on 19 Mar 2026"),
        ]
    )
    assert {(r.invoice_id, r.rule.kind, r.actor_label) for r in InvoiceReminder.objects.select_related("rule")} == {
        (invoice.pk, "on_due", "system:invoice_reminders"),
        (soon.pk, "before_due", "system:invoice_reminders"),
    }
    # The same day again, by the scheduler or by the job itself, sends nothing more
    assert run_day(tenant) is None
    again = services.invoice_reminders_send_due(practice=tenant.practice, local_date=DUE)
    assert again.counts == {"sent": 0, "skipped": 0, "failed": 0}
    assert len(reminder_emails()) == 2


def test_paid_void_disputed_and_excluded_invoices_get_none(tenant, rules, ana):
    practice, biller = tenant.practice, tenant.biller
    paid = open_invoice(tenant, ana, "50.00")
    services.invoice_mark_paid(invoice=paid, actor=biller, method="cash")
    voided = open_invoice(tenant, ana, "60.00")
    services.invoice_void(invoice=voided, actor=biller, reason="Entered twice")
    disputed = disputed_invoice(tenant, ana)
    excluded = open_invoice(tenant, ClientFactory(practice=practice, email="bea@mail.test", reminders_excluded=True))
    owing = open_invoice(tenant, ana, "90.00")

    run = run_day(tenant)

    assert run is not None and run.counts == {"sent": 1, "skipped": 0, "failed": 0}
    assert list(InvoiceReminder.objects.values_list("invoice_id", flat=True)) == [owing.pk]
    for invoice in (paid, voided, disputed, excluded):
        assert not InvoiceReminder.objects.filter(invoice=invoice).exists()


def test_a_dispute_opened_after_the_list_was_read_is_skipped(tenant, rules, ana, monkeypatch):
    fine = open_invoice(tenant, ana)
    disputed = disputed_invoice(tenant, ana)
    on_due = ReminderRule.objects.get(practice=tenant.practice, kind="on_due")
    # The list was read just before the dispute came in
    monkeypatch.setattr(
        "billing.services.reminders.reminders_due", lambda practice, day: [(disputed, on_due, 1), (fine, on_due, 1)]
    )

    run = run_day(tenant)

    assert run is not None and run.counts == {"sent": 1, "skipped": 1, "failed": 0}
    assert list(InvoiceReminder.objects.values_list("invoice_id", flat=True)) == [fine.pk]
    # and the service says why when asked directly
    with pytest.raises(ValidationError) as refused:
        services.invoice_reminder_send(invoice=disputed, rule=on_due, occurrence=1, actor=Actor.system(JOB))
    assert refused.value.messages == [services.REMINDER_DISPUTED]


def test_the_disputed_invoice_is_not_listed_as_due(tenant, rules, ana):
    disputed = disputed_invoice(tenant, ana)
    assert disputed.pk not in {i.pk for i, _rule, _n in selectors.reminders_due(tenant.practice, DUE)}


def test_one_failing_invoice_stops_none_of_the_others_and_is_retried(tenant, rules, ana, monkeypatch):
    first, broken, last = (open_invoice(tenant, ana, amount) for amount in ("10.00", "20.00", "30.00"))
    real_queue = services.reminders.email_queue

    def queue(**kwargs):
        if kwargs["about"].pk == broken.pk:
            raise RuntimeError("template missing")
        return real_queue(**kwargs)

    monkeypatch.setattr("billing.services.reminders.email_queue", queue)
    run = run_day(tenant)

    # The other two went; the run is failed, with its counts and the invoice that failed
    assert run is not None and run.status == "failed"
    assert run.counts == {"sent": 2, "skipped": 0, "failed": 1}
    assert run.error == f"1 reminder(s) failed: {broken.number}: RuntimeError: template missing"
    assert set(InvoiceReminder.objects.values_list("invoice_id", flat=True)) == {first.pk, last.pk}

    # Once the fault is gone, a later tick's retry sends only the one left
    monkeypatch.setattr("billing.services.reminders.email_queue", real_queue)
    retry = run_day(tenant)
    assert retry is not None and (retry.status, retry.attempts) == ("succeeded", 2)
    assert retry.counts == {"sent": 1, "skipped": 0, "failed": 0}
    assert len(reminder_emails()) == 3


def test_the_reminder_carries_the_payment_link_when_the_practice_takes_payment_online(tenant, rules, ana):
    tenant.practice.online_payments_enabled = True
    tenant.practice.save(update_fields=["online_payments_enabled"])
    open_invoice(tenant, ana)

    run_day(tenant)

    email = OutgoingEmail.objects.get(key__startswith="invoice-reminder:")
    assert "/pay/" in email.text


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Auckland"])
def test_reminders_are_due_at_nine_in_the_practices_morning(tenant, rules, zone):
    practice = tenant.practice
    practice.timezone = zone
    practice.save(update_fields=["timezone"])
    nine = datetime.combine(DUE, time(9, 0), tzinfo=ZoneInfo(zone))

    def reminders_due_now() -> list[date]:
        return [day for pk, name, day in jobs.jobs_due() if pk == practice.pk and name == JOB]

    with time_machine.travel(nine.replace(hour=8, minute=55), tick=False):
        assert reminders_due_now() == []
    with time_machine.travel(nine, tick=False):
        assert reminders_due_now() == [DUE]
