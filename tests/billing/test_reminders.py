"""Invoice reminders (issue 13 part 6): the rules a practice saves, which reminders are
due on a local day, and sending each one once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from billing import reminders, selectors, services
from billing.models import Invoice, InvoiceReminder, ReminderRule
from billing.reminders import RuleInput
from practice.actor import Actor
from practice.models import AuditLog, OutgoingEmail
from tests.factories import ClientFactory, issued_invoice, pay

pytestmark = pytest.mark.django_db

DUE = date(2026, 3, 16)
ISSUED = date(2026, 3, 2)


def rule(kind: str, days: int | None = None, times: int | None = None, **kw) -> RuleInput:
    return RuleInput(
        kind=kind,
        days=days,
        repeat_times=times,
        enabled=kw.pop("enabled", True),
        subject=kw.pop("subject", "Invoice {invoice_number}"),
        message=kw.pop("message", "Hello {client_name}, {amount_due} is due on {due_date}. {practice_name}"),
        rule_id=kw.pop("rule_id", None),
    )


def defaults(tenant) -> list[ReminderRule]:
    """The suggested rules, saved: 3 days before, on the day, 7 days after, then every 7 days x3."""
    return services.reminder_rules_save(practice=tenant.practice, actor=tenant.owner, rules=reminders.default_rules())


def due_on(invoice: Invoice, due: date = DUE, issued: date = ISSUED) -> Invoice:
    Invoice.objects.filter(pk=invoice.pk).update(due_date=due, issue_date=issued)
    invoice.refresh_from_db()
    return invoice


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


@pytest.fixture
def invoice(tenant, ana):
    return due_on(issued_invoice(tenant.practice, ana, tenant.biller, "120.00"))


def due(tenant, day: date) -> list[tuple[str, str, int, int]]:
    """What reminders_due lists on ``day``: (invoice number, rule kind, rule days, occurrence)."""
    return [(i.number, r.kind, r.days, n) for i, r, n in selectors.reminders_due(tenant.practice, day)]


# --- the rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (rule("before_due", None), "days", reminders.DAYS_REQUIRED),
        (rule("after_due", 0), "days", reminders.DAYS_RANGE),
        (rule("after_due", -3), "days", reminders.DAYS_RANGE),
        (rule("before_due", 400), "days", reminders.DAYS_RANGE),
        (rule("on_due", 5), "days", reminders.DAYS_NOT_ON_DUE),
        (rule("repeat", 7, None), "repeat_times", reminders.REPEATS_REQUIRED),
        (rule("repeat", 7, 0), "repeat_times", reminders.REPEATS_RANGE),
        (rule("repeat", 7, 13), "repeat_times", reminders.REPEATS_RANGE),
        (rule("after_due", 7, 2), "repeat_times", reminders.REPEATS_ONLY_FOR_REPEAT),
        (rule("after_due", 7, subject="  "), "subject", reminders.SUBJECT_REQUIRED),
        (rule("after_due", 7, message=""), "message", reminders.MESSAGE_REQUIRED),
        (rule("after_due", 7, message="x" * 5001), "message", reminders.MESSAGE_TOO_LONG),
    ],
)
def test_a_bad_rule_is_refused_with_its_reason_and_nothing_is_saved(tenant, bad, field, message):
    good = rule("on_due")
    with pytest.raises(services.ReminderRulesInvalid) as refused:
        services.reminder_rules_save(practice=tenant.practice, actor=tenant.owner, rules=[good, bad])

    assert refused.value.rows == {1: {field: message}}
    assert not ReminderRule.objects.filter(practice=tenant.practice).exists()


def test_an_unknown_placeholder_is_named_with_the_known_ones(tenant):
    bad = rule("after_due", 7, subject="Invoice {invoice_no}", message="Hi {Client Name}, pay {amount_due}")

    with pytest.raises(services.ReminderRulesInvalid) as refused:
        services.reminder_rules_save(practice=tenant.practice, actor=tenant.owner, rules=[bad])

    known = "{client_name}, {invoice_number}, {amount_due}, {due_date}, {practice_name}"
    assert refused.value.rows[0] == {
        "subject": f"Unknown placeholder {{invoice_no}}. Use one of: {known}.",
        "message": f"Unknown placeholder {{Client Name}}. Use one of: {known}.",
    }
    assert not ReminderRule.objects.exists()


def test_two_rules_on_the_same_day_or_two_repeats_are_refused(tenant):
    with pytest.raises(services.ReminderRulesInvalid) as refused:
        services.reminder_rules_save(
            practice=tenant.practice,
            actor=tenant.owner,
            rules=[rule("after_due", 7), rule("after_due", 7), rule("repeat", 7, 2), rule("repeat", 5, 2)],
        )
    assert refused.value.rows == {1: {"days": reminders.SAME_TIMING}, 3: {"kind": reminders.ONE_REPEAT}}

    # A rule turned off does not clash.
    saved = services.reminder_rules_save(
        practice=tenant.practice, actor=tenant.owner, rules=[rule("after_due", 7), rule("after_due", 7, enabled=False)]
    )
    assert [(r.kind, r.days, r.enabled) for r in saved] == [("after_due", 7, True), ("after_due", 7, False)]


def test_saving_updates_the_rules_in_place_and_audits(tenant):
    saved = defaults(tenant)
    first = saved[0]

    changed = [rule("before_due", 5, rule_id=first.pk, subject="Soon: {invoice_number}")] + [
        RuleInput(r.kind, r.days or None, r.repeat_times, r.enabled, r.subject, r.message, rule_id=r.pk)
        for r in saved[1:]
    ]
    services.reminder_rules_save(practice=tenant.practice, actor=tenant.owner, rules=changed)

    first.refresh_from_db()
    assert (first.days, first.subject) == (5, "Soon: {invoice_number}")
    assert ReminderRule.objects.filter(practice=tenant.practice).count() == 4
    assert AuditLog.objects.filter(practice=tenant.practice, action="reminder_rules.updated").count() == 2


def test_a_rule_of_another_practice_cannot_be_edited(tenant, other_tenant):
    theirs = defaults(other_tenant)[0]
    with pytest.raises(ValidationError) as refused:
        services.reminder_rules_save(
            practice=tenant.practice, actor=tenant.owner, rules=[rule("after_due", 9, rule_id=theirs.pk)]
        )
    assert refused.value.messages == [services.RULE_GONE]
    theirs.refresh_from_db()
    assert theirs.days == 3


def test_the_database_refuses_days_that_do_not_fit_the_kind(tenant):
    saved = defaults(tenant)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderRule.objects.filter(pk=saved[1].pk).update(days=4)  # on the due date, 4 days?
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderRule.objects.filter(pk=saved[0].pk).update(repeat_times=2)


# --- which reminders are due --------------------------------------------------------------


def test_reminders_fall_before_on_after_and_repeat_from_the_due_date(tenant, invoice):
    defaults(tenant)
    n = invoice.number

    assert due(tenant, date(2026, 3, 12)) == []
    assert due(tenant, date(2026, 3, 13)) == [(n, "before_due", 3, 1)]
    assert due(tenant, date(2026, 3, 16)) == [(n, "on_due", 0, 1)]
    assert due(tenant, date(2026, 3, 17)) == []
    assert due(tenant, date(2026, 3, 23)) == [(n, "after_due", 7, 1)]
    # then every 7 days after the 7-days-after one, 3 times
    assert due(tenant, date(2026, 3, 30)) == [(n, "repeat", 7, 1)]
    assert due(tenant, date(2026, 4, 6)) == [(n, "repeat", 7, 2)]
    assert due(tenant, date(2026, 4, 13)) == [(n, "repeat", 7, 3)]
    assert due(tenant, date(2026, 4, 20)) == []


def test_without_saved_rules_nothing_is_due(tenant, invoice):
    assert due(tenant, date(2026, 3, 16)) == []


def test_a_rule_turned_off_sends_nothing(tenant, invoice):
    saved = defaults(tenant)
    ReminderRule.objects.filter(pk=saved[1].pk).update(enabled=False)
    assert due(tenant, date(2026, 3, 16)) == []


def test_a_reminder_sent_is_not_due_again(tenant, invoice):
    on_due = defaults(tenant)[1]
    services.invoice_reminder_send(invoice=invoice, rule=on_due, occurrence=1, actor=Actor.system("reminders"))
    assert due(tenant, date(2026, 3, 16)) == []


def test_paid_void_written_off_draft_and_excluded_get_no_reminder(tenant, ana):
    defaults(tenant)
    practice, biller = tenant.practice, tenant.biller
    bea = ClientFactory(practice=practice, reminders_excluded=True)
    paid = due_on(issued_invoice(practice, ana, biller, "50.00"))
    services.invoice_mark_paid(invoice=paid, actor=biller, method="cash")
    voided = due_on(issued_invoice(practice, ana, biller, "60.00"))
    services.invoice_void(invoice=voided, actor=biller, reason="Entered twice")
    written = due_on(issued_invoice(practice, ana, biller, "70.00"))
    services.invoice_write_off(invoice=written, actor=biller, reason="Hardship")
    excluded = due_on(issued_invoice(practice, bea, biller, "80.00"))
    part_paid = due_on(issued_invoice(practice, ana, biller, "90.00"))
    pay(practice, ana, biller, "40.00")  # oldest first: part of what is open

    listed = {i.pk for i, _r, _n in selectors.reminders_due(practice, DUE)}

    assert paid.pk not in listed and voided.pk not in listed and written.pk not in listed
    assert excluded.pk not in listed
    assert part_paid.pk in listed
    # and sending to the excluded client by a rule is refused too
    on_due = ReminderRule.objects.get(practice=practice, kind="on_due")
    with pytest.raises(ValidationError) as refused:
        services.invoice_reminder_send(invoice=excluded, rule=on_due, occurrence=1, actor=biller)
    assert refused.value.messages == [services.REMINDER_CLIENT_EXCLUDED]


def test_an_invoice_is_not_chased_on_the_day_it_is_issued_nor_without_an_address(tenant, ana):
    defaults(tenant)
    same_day = due_on(issued_invoice(tenant.practice, ana, tenant.biller), issued=DUE)
    nobody = ClientFactory(practice=tenant.practice, email="")
    no_address = due_on(issued_invoice(tenant.practice, nobody, tenant.biller))
    Invoice.objects.filter(pk=no_address.pk).update(bill_to_email="")

    listed = {i.pk for i, _r, _n in selectors.reminders_due(tenant.practice, DUE)}

    assert same_day.pk not in listed and no_address.pk not in listed


def test_reminders_due_keeps_to_its_practice(tenant, other_tenant, invoice):
    defaults(tenant)
    defaults(other_tenant)
    theirs = ClientFactory(practice=other_tenant.practice)
    their_invoice = due_on(issued_invoice(other_tenant.practice, theirs, other_tenant.biller))

    mine = selectors.reminders_due(tenant.practice, DUE)

    assert [(i.pk, r.practice_id) for i, r, _n in mine] == [(invoice.pk, tenant.practice.pk)]
    assert their_invoice.pk not in {i.pk for i, _r, _n in mine}


# --- sending --------------------------------------------------------------------------------


def test_sending_a_rule_reminder_records_it_and_emails_once(tenant, invoice, django_capture_on_commit_callbacks):
    on_due = defaults(tenant)[1]

    with django_capture_on_commit_callbacks(execute=True):
        first = services.invoice_reminder_send(invoice=invoice, rule=on_due, occurrence=1, actor=tenant.biller)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.invoice_reminder_send(invoice=invoice, rule=on_due, occurrence=1, actor=tenant.biller)

    assert again.pk == first.pk
    assert InvoiceReminder.objects.filter(invoice=invoice).count() == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ana@mail.test"]
    assert sent.subject == f"Invoice {invoice.number} is due today"
    assert "Hello Ana Lima" in sent.body and "$120.00" in sent.body and "16 Mar 2026" in sent.body
    assert "Pay online" not in sent.body  # no payment link unless one is given
    email = OutgoingEmail.objects.get(key=f"invoice-reminder:{first.pk}")
    assert first.email_id == email.pk and email.status == OutgoingEmail.Status.SENT


def test_a_payment_link_given_is_in_the_email(tenant, invoice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_reminder_send(
            invoice=invoice, rule=None, actor=tenant.biller, payment_link="https://pay.example/abc"
        )
    body = mail.outbox[0].body
    html = mail.outbox[0].alternatives[0][0]
    assert "Pay online: https://pay.example/abc" in body and 'href="https://pay.example/abc"' in html


def test_a_paid_invoice_is_not_reminded_about(tenant, invoice):
    services.invoice_mark_paid(invoice=invoice, actor=tenant.biller, method="cash")
    with pytest.raises(ValidationError) as refused:
        services.invoice_reminder_send(invoice=invoice, rule=None, actor=tenant.biller)
    assert refused.value.messages == [services.REMINDER_NOT_OPEN]
    assert not InvoiceReminder.objects.exists() and not OutgoingEmail.objects.exists()


def test_hand_sends_count_up(tenant, invoice):
    one = services.invoice_reminder_send(invoice=invoice, rule=None, actor=tenant.biller)
    two = services.invoice_reminder_send(invoice=invoice, rule=None, actor=tenant.biller)
    assert (one.occurrence, two.occurrence, one.rule_id) == (1, 2, None)
    assert OutgoingEmail.objects.filter(topic="invoice_reminder").count() == 2


def test_the_database_refuses_a_second_row_for_the_same_reminder(tenant, invoice):
    on_due = defaults(tenant)[1]
    services.invoice_reminder_send(invoice=invoice, rule=on_due, occurrence=1, actor=tenant.biller)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceReminder.objects.create(
            practice=tenant.practice, invoice=invoice, rule=on_due, occurrence=1, to="x@y.test", actor_label="x"
        )
    services.invoice_reminder_send(invoice=invoice, rule=None, actor=tenant.biller)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceReminder.objects.create(
            practice=tenant.practice, invoice=invoice, rule=None, occurrence=1, to="x@y.test", actor_label="x"
        )


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_reminder_at_once_send_it_once(tenant, ana):
    invoice = due_on(issued_invoice(tenant.practice, ana, tenant.biller, "120.00"))
    on_due = defaults(tenant)[1]
    barrier = threading.Barrier(4)
    results: list[object] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(
                services.invoice_reminder_send(
                    invoice=invoice, rule=on_due, occurrence=1, actor=Actor.system("reminders")
                ).pk
            )
        except BaseException as exc:  # asserted below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 4 and len(set(results)) == 1, results
    assert InvoiceReminder.objects.filter(invoice=invoice).count() == 1
    assert OutgoingEmail.objects.filter(topic="invoice_reminder").count() == 1
    assert len(mail.outbox) == 1
