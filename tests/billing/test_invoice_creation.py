"""Invoice creation (issue 16 part 2): Settings > Invoice creation, the run that invoices
each client's uninvoiced items on the practice's run days, and the owner's summary."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import services
from billing.models import BillingItem, Invoice, InvoiceCreationSetting
from billing.views.invoice_creation import INVOICE_CREATION_SAVED
from practice.models import AuditLog, OutgoingEmail, Role
from tests.factories import ClientFactory, make_item
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2026, 12, 2)


def choose(practice, cadence, weekday=None, send=False):
    return InvoiceCreationSetting.objects.update_or_create(
        practice=practice, defaults={"cadence": cadence, "weekday": weekday, "send_automatically": send}
    )[0]


def summaries():
    return OutgoingEmail.objects.filter(key__startswith="invoice-creation-summary:")


DAYS = [date(2026, 11, 30) + timedelta(days=n) for n in range(40)]  # Mon 30 Nov 2026 to Fri 8 Jan 2027


@pytest.mark.parametrize(
    ("cadence", "weekday", "run_days"),
    [
        ("daily", None, DAYS),
        ("weekly", 2, [date(2026, 12, d) for d in (2, 9, 16, 23, 30)] + [date(2027, 1, 6)]),
        ("weekly", 4, [date(2026, 12, d) for d in (4, 11, 18, 25)] + [date(2027, 1, 1), date(2027, 1, 8)]),
        ("monthly", None, [date(2026, 12, 1), date(2027, 1, 1)]),
        ("off", None, []),
    ],
)
def test_each_cadence_runs_on_its_days_only(tenant, cadence, weekday, run_days):
    practice = tenant.practice
    choose(practice, cadence, weekday)

    assert [day for day in DAYS if services.invoice_creation_due(practice, day)] == run_days


def test_no_setting_is_off_and_a_day_that_is_not_a_run_day_does_nothing(tenant):
    practice = tenant.practice
    make_item(practice, ClientFactory(practice=practice), on=WEDNESDAY)
    assert services.invoice_creation_due(practice, WEDNESDAY) is False
    assert services.invoice_creation_run(practice=practice, local_date=WEDNESDAY) == {}

    choose(practice, "weekly", weekday=3)  # Thursday
    assert services.invoice_creation_run(practice=practice, local_date=WEDNESDAY) == {}
    choose(practice, "monthly")
    assert services.invoice_creation_run(practice=practice, local_date=WEDNESDAY) == {}
    assert not Invoice.objects.exists()
    assert not summaries().exists()


def test_one_draft_per_client_with_items_up_to_the_day_only(tenant, other_tenant):
    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily")
    ana, ben = ClientFactory(practice=practice), ClientFactory(practice=practice)
    ana_items = [make_item(practice, ana, "90", on=today - timedelta(days=9)), make_item(practice, ana, "60", on=today)]
    ben_item = make_item(practice, ben, "40", on=today - timedelta(days=1))
    later = make_item(practice, ben, "70", on=today + timedelta(days=1))
    elsewhere = make_item(other_tenant.practice, ClientFactory(practice=other_tenant.practice), on=today)

    counts = services.invoice_creation_run(practice=practice, local_date=today)

    assert counts == {"clients": 2, "invoices": 2, "sent": 0, "skipped": 0}
    invoices = {inv.client_id: inv for inv in Invoice.objects.filter(practice=practice)}
    assert set(invoices) == {ana.pk, ben.pk}
    assert all(inv.status == Invoice.Status.DRAFT for inv in invoices.values())
    assert invoices[ana.pk].total == Decimal("150")
    assert {i.invoice_id for i in BillingItem.objects.filter(pk__in=[x.pk for x in ana_items])} == {invoices[ana.pk].pk}
    assert BillingItem.objects.get(pk=ben_item.pk).invoice_id == invoices[ben.pk].pk
    assert BillingItem.objects.get(pk=later.pk).invoice_id is None
    assert BillingItem.objects.get(pk=elsewhere.pk).invoice_id is None
    assert not OutgoingEmail.objects.filter(key__startswith="invoice-invoice:").exists()


def test_send_automatically_issues_and_queues_each_invoice_email(tenant):
    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily", send=True)
    ana = ClientFactory(practice=practice)
    no_email = ClientFactory(practice=practice, email="")
    make_item(practice, ana, "90", on=today)
    make_item(practice, no_email, "50", on=today)

    counts = services.invoice_creation_run(practice=practice, local_date=today)

    assert counts == {"clients": 2, "invoices": 2, "sent": 1, "skipped": 0}
    sent = Invoice.objects.get(client=ana)
    assert sent.status == Invoice.Status.OPEN and sent.number
    email = OutgoingEmail.objects.get(key__startswith="invoice-invoice:")
    assert email.to == ana.email and email.about_id == sent.pk
    # Nobody to email: left as a draft for the biller, not issued unseen.
    assert Invoice.objects.get(client=no_email).status == Invoice.Status.DRAFT
    assert AuditLog.objects.filter(action="invoice.sent", actor_label="system:invoice_creation").count() == 1


def test_a_client_invoiced_by_hand_that_day_gets_no_second_invoice(tenant):
    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily", send=True)
    ana, ben = ClientFactory(practice=practice), ClientFactory(practice=practice)
    by_hand = make_item(practice, ana, "90", on=today - timedelta(days=2))
    services.invoice_create(practice=practice, client=ana, actor=tenant.biller, item_ids=[by_hand.pk], issue=True)
    left = make_item(practice, ana, "60", on=today)  # recorded after the hand-made invoice
    make_item(practice, ben, "40", on=today)

    counts = services.invoice_creation_run(practice=practice, local_date=today)

    assert counts == {"clients": 2, "invoices": 1, "sent": 1, "skipped": 1}
    assert Invoice.objects.filter(client=ana).count() == 1
    assert BillingItem.objects.get(pk=by_hand.pk).invoice.created_by == tenant.biller
    # Ana's item left over waits for the next run day.
    assert BillingItem.objects.get(pk=left.pk).invoice_id is None
    tomorrow = services.invoice_creation_run(practice=practice, local_date=today + timedelta(days=1))
    assert tomorrow["invoices"] == 1
    assert BillingItem.objects.get(pk=left.pk).invoice.client_id == ana.pk


def test_a_hand_made_invoice_made_while_todays_run_is_under_way_wins(tenant, monkeypatch):
    """Run now runs today, while billers may still invoice by hand: a client a biller
    invoices between the run's first read and their turn gets nothing from the run."""
    from billing.services import invoice_creation

    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily", send=True)
    ana, ben = ClientFactory(practice=practice), ClientFactory(practice=practice)
    make_item(practice, ana, "90", on=today)
    listed = make_item(practice, ben, "40", on=today)
    reached: list[str] = []

    def a_biller_invoices_ben_meanwhile(name):
        reached.append(name)
        if name == "invoice_creation.before_client" and reached.count(name) == 2:  # Ana done, Ben next
            extra = make_item(practice, ben, "25", on=today)
            services.invoice_create(practice=practice, client=ben, actor=tenant.biller, item_ids=[extra.pk])

    monkeypatch.setattr(invoice_creation, "checkpoint", a_biller_invoices_ben_meanwhile)

    counts = services.invoice_creation_run(practice=practice, local_date=today)

    assert counts == {"clients": 2, "invoices": 1, "sent": 1, "skipped": 1}
    assert Invoice.objects.filter(client=ben).get().created_by == tenant.biller
    assert BillingItem.objects.get(pk=listed.pk).invoice_id is None


def test_a_hand_made_invoice_of_an_earlier_day_does_not_stop_the_run(tenant):
    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily")
    ana = ClientFactory(practice=practice)
    invoice = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[make_item(practice, ana, on=today).pk]
    )
    Invoice.objects.filter(pk=invoice.pk).update(created_at=invoice.created_at - timedelta(days=1))
    make_item(practice, ana, "60", on=today)

    assert services.invoice_creation_run(practice=practice, local_date=today)["invoices"] == 1


def test_running_twice_for_the_same_day_makes_nothing_more(tenant):
    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily", send=True)
    for _ in range(3):
        make_item(practice, ClientFactory(practice=practice), on=today)

    first = services.invoice_creation_run(practice=practice, local_date=today)
    state = (
        list(Invoice.objects.order_by("pk").values_list("pk", "client_id", "status", "total")),
        list(OutgoingEmail.objects.order_by("pk").values_list("pk", "key")),
    )
    second = services.invoice_creation_run(practice=practice, local_date=today)

    assert first == {"clients": 3, "invoices": 3, "sent": 3, "skipped": 0}
    # The figures are the day's, whichever try made its invoices.
    assert second == first
    assert (
        list(Invoice.objects.order_by("pk").values_list("pk", "client_id", "status", "total")),
        list(OutgoingEmail.objects.order_by("pk").values_list("pk", "key")),
    ) == state
    assert summaries().count() == 1


def test_a_client_gets_one_invoice_from_a_run_day_however_often_it_runs(tenant):
    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily", send=True)
    ana = ClientFactory(practice=practice)
    make_item(practice, ana, "90", on=today)
    services.invoice_creation_run(practice=practice, local_date=today)
    first = Invoice.objects.get(client=ana)
    # An item recorded after the run, then the same day's run again (a retry after a crash)
    late = make_item(practice, ana, "60", on=today)

    counts = services.invoice_creation_run(practice=practice, local_date=today)

    assert counts == {"clients": 1, "invoices": 1, "sent": 1, "skipped": 0}
    assert list(Invoice.objects.filter(client=ana)) == [first]
    assert first.creation_run_date == today
    assert BillingItem.objects.get(pk=late.pk).invoice_id is None
    assert OutgoingEmail.objects.filter(key__startswith="invoice-invoice:").count() == 1
    # The next run day takes it
    assert services.invoice_creation_run(practice=practice, local_date=today + timedelta(days=1))["invoices"] == 1
    assert BillingItem.objects.get(pk=late.pk).invoice.creation_run_date == today + timedelta(days=1)


def test_the_database_refuses_a_second_run_invoice_for_a_client_and_day(tenant):
    from django.db import IntegrityError, transaction

    practice = tenant.practice
    today = practice.local_today()
    ana = ClientFactory(practice=practice)
    first = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[make_item(practice, ana).pk]
    )
    second = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[make_item(practice, ana).pk]
    )
    Invoice.objects.filter(pk=first.pk).update(creation_run_date=today)

    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=second.pk).update(creation_run_date=today)
    # Another day, or another client's, is fine
    Invoice.objects.filter(pk=second.pk).update(creation_run_date=today - timedelta(days=1))


def test_the_owner_gets_one_summary_per_run_day(tenant):
    practice = tenant.practice
    today = practice.local_today()
    choose(practice, "daily", send=True)
    make_item(practice, ClientFactory(practice=practice), on=today)
    make_item(practice, ClientFactory(practice=practice, email=""), on=today)

    services.invoice_creation_run(practice=practice, local_date=today)

    summary = summaries().get()
    assert summary.to == tenant.owner.email
    assert summary.subject == f"2 invoices created for {practice.name}"
    assert "2 invoices created, 1 emailed to clients." in summary.text
    # A run the same day that finds new items reuses the day's key: no second summary.
    make_item(practice, ClientFactory(practice=practice), on=today)
    assert services.invoice_creation_run(practice=practice, local_date=today)["invoices"] == 3
    assert Invoice.objects.filter(practice=practice).count() == 3
    assert summaries().count() == 1
    # A run that makes nothing sends no summary.
    services.invoice_creation_run(practice=practice, local_date=today + timedelta(days=1))
    assert summaries().count() == 1


def post(browser, tenant, **data):
    return browser.post(url(tenant, "billing:invoice_creation"), data)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owner_and_admin_choose_weekly_and_it_is_audited(tenant, role):
    browser = signed_in(tenant.member(role))
    assert browser.get(url(tenant, "billing:invoice_creation")).status_code == 200

    response = post(browser, tenant, cadence="weekly", weekday="4", send_automatically="on")

    assert response.status_code == 302
    assert INVOICE_CREATION_SAVED in browser.get(response.url).content.decode()
    setting = InvoiceCreationSetting.objects.get(practice=tenant.practice)
    assert (setting.cadence, setting.weekday, setting.send_automatically) == ("weekly", 4, True)
    row = AuditLog.objects.get(action="practice.invoice_creation_changed")
    assert row.changes["weekday"] == [None, "Friday"]
    assert row.actor_label == tenant.member(role).email
    # Back to Daily: the weekday is dropped.
    post(browser, tenant, cadence="daily", weekday="4")
    setting.refresh_from_db()
    assert (setting.cadence, setting.weekday, setting.send_automatically) == ("daily", None, False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cadence": "weekly", "weekday": ""}, services.WEEKDAY_REQUIRED),
        ({"cadence": "weekly", "weekday": "9"}, "Select a valid choice"),
        ({"cadence": "hourly"}, "Select a valid choice"),
        ({}, "This field is required."),
    ],
)
def test_bad_input_shows_a_message_and_saves_nothing(tenant, data, message):
    browser = signed_in(tenant.owner)

    response = post(browser, tenant, **data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not InvoiceCreationSetting.objects.exists()
    assert not AuditLog.objects.filter(action="practice.invoice_creation_changed").exists()


@pytest.mark.parametrize("role", [Role.BILLER, Role.CLINICIAN])
def test_other_roles_cannot_see_or_change_it(tenant, role):
    browser = signed_in(tenant.member(role))

    assert browser.get(url(tenant, "billing:invoice_creation")).status_code == 403
    assert post(browser, tenant, cadence="daily").status_code == 403
    assert not InvoiceCreationSetting.objects.exists()


def test_the_service_refuses_weekly_without_a_weekday(tenant):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.invoice_creation_setting_save(
            practice=tenant.practice, actor=tenant.owner, cadence="weekly", weekday=None, send_automatically=False
        )
    assert exc.value.message_dict == {"weekday": [services.WEEKDAY_REQUIRED]}
    assert not InvoiceCreationSetting.objects.exists()


@pytest.mark.parametrize(("minutes_after_midnight", "invoiced"), [(10, False), (-20, True)])
def test_that_day_is_the_practices_local_day(tenant, minutes_after_midnight, invoiced):
    """In Auckland a hand-made invoice at 00:10 local (still the day before in UTC) is that
    day's; one at 23:40 the evening before is not, and does not stop the run."""
    practice = tenant.practice
    practice.timezone = "Pacific/Auckland"
    practice.save(update_fields=["timezone"])
    today = practice.local_today()
    choose(practice, "daily")
    ana = ClientFactory(practice=practice)
    by_hand = services.invoice_create(
        practice=practice, client=ana, actor=tenant.biller, item_ids=[make_item(practice, ana, on=today).pk]
    )
    midnight = datetime.combine(today, time.min, tzinfo=ZoneInfo("Pacific/Auckland"))
    Invoice.objects.filter(pk=by_hand.pk).update(created_at=midnight + timedelta(minutes=minutes_after_midnight))
    make_item(practice, ana, "60", on=today)

    counts = services.invoice_creation_run(practice=practice, local_date=today)

    assert counts["invoices"] == int(invoiced)
    assert counts["skipped"] == int(not invoiced)


def test_the_scheduler_runs_it_for_the_day_just_ended_through_its_job_run(tenant, time_machine):
    from practice.jobs import job_run, jobs_due

    practice = tenant.practice
    # Daily chosen on Wednesday morning (only a setting in place when a day ends runs it)
    time_machine.move_to(datetime.combine(WEDNESDAY, time(9, 0), tzinfo=practice.tzinfo), tick=False)
    choose(practice, "daily")
    client = ClientFactory(practice=practice)
    make_item(practice, client, on=WEDNESDAY)
    # Ten past midnight on Thursday, the practice's time: Wednesday has ended.
    thursday = datetime.combine(WEDNESDAY + timedelta(days=1), time(0, 10), tzinfo=practice.tzinfo)
    time_machine.move_to(thursday, tick=False)

    due = [entry for entry in jobs_due() if entry[0] == practice.pk and entry[1] == "invoice_creation"]
    assert due == [(practice.pk, "invoice_creation", WEDNESDAY)]
    run = job_run(practice_id=practice.pk, job_name="invoice_creation", local_date=WEDNESDAY)
    assert run is not None and run.counts["invoices"] == 1
    assert Invoice.objects.filter(client=client).count() == 1
    # done for that day: the next tick queues nothing more
    assert not [entry for entry in jobs_due() if entry[0] == practice.pk and entry[1] == "invoice_creation"]
