"""Issue 16, part 4: nightly AutoPay. Between 12 AM and 6 AM in the practice's time zone
each enrolled client with something to charge is charged once on their default card (the
fake Stripe, over real HTTP): a receipt on success; a decline emails the client a link to
update the card and shows on the Billing page and the client's Billing tab; three failed
nights in a row pause AutoPay and tell the client and the owners; a bank that wants the
client gets them a link to finish paying. The cap, an approval, Skip tonight and the
balance left out at enrolment are honoured.

Celery runs tasks in-process here (tests/conftest.py), so the night's charge tasks run
inside the job's run; the real-worker kill tests live elsewhere."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from billing.models import Invoice, Payment
from clients.models import AutoPayEnrolment
from payments import autopay_night
from payments.autopay import autopay_approve, autopay_skip, autopay_turn_on
from payments.autopay_night import (
    NOT_CHARGED_SKIPPED,
    NOT_CHARGED_WAITS,
    autopay_charge_process,
    autopay_night_run,
)
from payments.models import AutoPayCharge, CardChargeAttempt
from practice.actor import Actor
from practice.jobs import job_run
from practice.models import JobRun, OutgoingEmail
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url
from tests.portal import grant_portal, portal_signed_in

from .autopay_helpers import (
    CARD_3DS_ALWAYS,
    CARD_CHARGE_FAILS,
    enrolled_client,
    fake_intents,
    intent_posts,
    takes_charges,
)
from .helpers import save_card

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
EVENING = datetime(2026, 3, 4, 19, 0, tzinfo=NEW_YORK)
NIGHT = date(2026, 3, 5)
NIGHT_TIME = datetime(2026, 3, 5, 0, 30, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def fast_pace(settings):
    # The pace itself is tested in test_autopay_rate.py; here charges need not wait.
    settings.AUTOPAY_CHARGES_PER_SECOND = 1000


@pytest.fixture
def evening():
    with time_machine.travel(EVENING, tick=True) as traveller:
        yield traveller


@pytest.fixture
def account(app_on_fake, tenant):
    return takes_charges(app_on_fake, tenant.practice)


def night_of(traveller, when=NIGHT_TIME):
    traveller.move_to(when, tick=True)


def run_night(practice, night=NIGHT):
    """The scheduler's run of the night (JobRun claim, the job, its charge tasks)."""
    return job_run(practice_id=practice.pk, job_name=autopay_night.NIGHT_JOB, local_date=night)


def emails(topic, to=None):
    found = OutgoingEmail.objects.filter(topic=topic)
    return list(found.filter(to=to) if to else found)


def test_each_enrolled_client_is_charged_the_nights_amount_once_with_a_receipt(app_on_fake, account, tenant, evening):
    ana, _ = enrolled_client(app_on_fake, tenant.practice)
    first = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    second = issued_invoice(tenant.practice, ana, tenant.biller, "80.00")
    _nobody, _ = enrolled_client(app_on_fake, tenant.practice, first="Nadia", last="Owens")
    night_of(evening)

    run = run_night(tenant.practice)

    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts == {"enrolled": 2, "paused": 0, "nothing_due": 1, "to_charge": 1, "queued": 1}
    charge = AutoPayCharge.objects.get()
    assert (charge.client, charge.night, charge.status, charge.amount) == (
        ana,
        NIGHT,
        AutoPayCharge.Status.SUCCEEDED,
        Decimal("230.00"),
    )
    # One PaymentIntent, keyed by the attempt the AutoPay row names, for the night's invoices.
    (post,) = intent_posts(app_on_fake)
    assert post["idempotency_key"] == f"cardcharge:{charge.attempt_id}:intent"
    assert post["params"]["amount"] == "23000" and post["params"]["off_session"] == "true"
    payment = Payment.objects.get()
    assert (payment.amount, payment.method) == (Decimal("230.00"), Payment.Method.CARD_ON_FILE)
    for invoice in (first, second):
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
    (receipt,) = emails("payment_receipt")
    assert receipt.to == ana.email
    # The audit names AutoPay, not a person
    assert CardChargeAttempt.objects.get().created_by is None

    # Run again (a second tick, Run now): nothing more.
    assert run_night(tenant.practice) is None
    assert autopay_night_run(practice=tenant.practice, night=NIGHT)["queued"] == 0
    assert len(intent_posts(app_on_fake)) == 1 and Payment.objects.count() == 1


def test_a_client_who_left_the_balance_out_is_charged_only_what_came_after(app_on_fake, account, tenant, evening):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana.lima@mail.test")
    old = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    save_card(app_on_fake, ana)
    autopay_turn_on(
        client=ana, actor=Actor.of_portal(ana.email), include_balance=False, max_per_night=None, expected_balance=None
    )
    later = issued_invoice(tenant.practice, ana, tenant.biller, "40.00")
    night_of(evening)

    run_night(tenant.practice)

    assert AutoPayCharge.objects.get().amount == Decimal("40.00")
    later.refresh_from_db()
    old.refresh_from_db()
    assert later.status == Invoice.Status.PAID and old.status == Invoice.Status.OPEN and old.balance == Decimal("150")


def test_the_maximum_per_night_waits_for_approval_and_an_approval_is_charged(app_on_fake, account, tenant, evening):
    ana, _ = enrolled_client(app_on_fake, tenant.practice, cap="100")
    issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")
    ben, _ = enrolled_client(app_on_fake, tenant.practice, first="Ben", last="Marsh", cap="100")
    issued_invoice(tenant.practice, ben, tenant.biller, "230.00")
    # Ben approves tonight's $230 the evening before; Ana does not.
    autopay_approve(client=ben, night=NIGHT, amount=Decimal("230.00"), actor=Actor.of_portal(ben.email))
    night_of(evening)

    run_night(tenant.practice)

    (charge,) = AutoPayCharge.objects.all()
    assert (charge.client, charge.status, charge.amount) == (ben, "succeeded", Decimal("230.00"))
    assert not AutoPayCharge.objects.filter(client=ana).exists()
    assert len(intent_posts(app_on_fake)) == 1


def test_skip_tonight_is_honoured_even_after_the_row_was_made(app_on_fake, account, tenant, evening):
    ana, _ = enrolled_client(app_on_fake, tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.biller, "90.00")
    ben, _ = enrolled_client(app_on_fake, tenant.practice, first="Ben", last="Marsh")
    issued_invoice(tenant.practice, ben, tenant.biller, "60.00")
    autopay_skip(client=ana, night=NIGHT, actor=Actor.of_portal(ana.email))
    night_of(evening)
    # Ben's row is made, then he skips before his charge runs (a backlog of charges).
    ben_charge = autopay_night.autopay_charge_prepare(enrolment=AutoPayEnrolment.objects.get(client=ben), night=NIGHT)
    autopay_skip(client=ben, night=NIGHT, actor=Actor.of_portal(ben.email))

    run_night(tenant.practice)

    assert not AutoPayCharge.objects.filter(client=ana).exists()
    ben_charge.refresh_from_db()
    assert (ben_charge.status, ben_charge.reason) == (AutoPayCharge.Status.NOT_CHARGED, NOT_CHARGED_SKIPPED)
    assert intent_posts(app_on_fake) == []


def test_a_night_above_the_cap_after_the_row_was_made_is_not_charged(app_on_fake, account, tenant, evening):
    ana, enrolment = enrolled_client(app_on_fake, tenant.practice, cap="100")
    issued_invoice(tenant.practice, ana, tenant.biller, "90.00")
    night_of(evening)
    charge = autopay_night.autopay_charge_prepare(enrolment=enrolment, night=NIGHT)
    # An invoice issued for the same night (before it began) would take it over the cap.
    AutoPayEnrolment.objects.filter(pk=enrolment.pk).update(max_per_night=Decimal("50"))

    autopay_charge_process(charge_id=charge.pk)

    charge.refresh_from_db()
    assert (charge.status, charge.reason) == (AutoPayCharge.Status.NOT_CHARGED, NOT_CHARGED_WAITS)
    assert intent_posts(app_on_fake) == []


def test_a_declined_card_emails_the_client_a_link_to_update_it_and_staff_see_it(
    app_on_fake, account, tenant, evening, django_capture_on_commit_callbacks
):
    ana, _ = enrolled_client(app_on_fake, tenant.practice, card=CARD_CHARGE_FAILS)
    grant_portal(ana)
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "120.00")
    night_of(evening)

    with django_capture_on_commit_callbacks(execute=True):
        run_night(tenant.practice)

    charge = AutoPayCharge.objects.get()
    assert (charge.status, charge.reason) == (AutoPayCharge.Status.FAILED, "Your card was declined.")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and not Payment.objects.exists()
    assert AutoPayEnrolment.objects.get().failures_in_a_row == 1
    # The client: AutoPay's email with the update-your-card link, not Pay now's.
    assert not emails("card_charge_declined")
    (message,) = [m for m in mail.outbox if "AutoPay" in m.subject]
    assert message.to == [ana.email]
    assert message.subject == f"Your AutoPay payment to {tenant.practice.name} did not go through"
    assert "Your card was declined." in message.body and "generic_decline" not in message.body
    assert "/stripe/cards/" in message.body and "/portal/payment-methods/" in message.body
    assert "2 more nights in a row, AutoPay is paused" in message.body
    # Staff: the Billing page's notice and the client's Billing tab.
    biller = signed_in(tenant.biller)
    home = biller.get(url(tenant, "billing:home")).content.decode()
    assert 'data-testid="autopay-problems"' in home
    assert "AutoPay on the night of Thursday 5 March: 1 charge did not go through" in home
    assert "Ana Lima</a> ($120.00, failed: Your card was declined.)" in home
    tab = biller.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert 'data-testid="autopay-charge"' in tab and "Failed</span> Visa •••• 0341: Your card was declined." in tab
    # The client's portal AutoPay page: the last result.
    page = portal_signed_in(ana).get("/portal/autopay/").content.decode()
    assert "5 March 2026: $120.00 could not be charged: Your card was declined." in page


def test_the_update_link_saves_a_new_default_card(app_on_fake, account, tenant, evening):
    ana, _ = enrolled_client(app_on_fake, tenant.practice, card=CARD_CHARGE_FAILS)
    issued_invoice(tenant.practice, ana, tenant.biller, "120.00")
    night_of(evening)
    run_night(tenant.practice)
    (email,) = emails("autopay_failed")
    link = next(w for w in email.text.split() if "/stripe/cards/" in w).replace("http://127.0.0.1:8000", "")

    page = signed_in(tenant.biller).get(link).content.decode()
    assert "The card you save becomes your default card" in page
    from payments.models import CardSetup, SavedCard

    response = signed_in(tenant.biller).post(link + "start/")
    assert response.status_code == 303
    setup = CardSetup.objects.latest("pk")
    assert setup.make_default
    app_on_fake.control.pay_session(str(setup.stripe_checkout_session_id), "4242424242424242")
    from payments.cards import card_setup_refresh

    card = card_setup_refresh(setup).card
    assert card is not None and card.is_default and card.last4 == "4242"
    assert SavedCard.objects.filter(client=ana, is_default=True).get() == card


def test_three_failed_nights_in_a_row_pause_autopay_and_tell_the_client_and_the_owners(
    app_on_fake, account, tenant, evening
):
    ana, enrolment = enrolled_client(app_on_fake, tenant.practice, card=CARD_CHARGE_FAILS)
    grant_portal(ana)
    issued_invoice(tenant.practice, ana, tenant.biller, "120.00")

    for day in (5, 6, 7):
        night_of(evening, datetime(2026, 3, day, 1, 0, tzinfo=NEW_YORK))
        run_night(tenant.practice, date(2026, 3, day))

    assert list(AutoPayCharge.objects.order_by("night").values_list("status", flat=True)) == ["failed"] * 3
    enrolment.refresh_from_db()
    assert enrolment.is_paused and enrolment.is_on
    assert enrolment.paused_reason == "Payment failed on 3 nights in a row."
    # Two "did not go through" emails, then the pause: the client and each owner told once.
    assert len(emails("autopay_failed")) == 2
    (paused,) = emails("autopay_paused")
    assert paused.to == ana.email and "AutoPay with Harbour Street Therapy is paused" in paused.subject
    assert "Update your card" in paused.html and "/portal/autopay/" in paused.text
    (owner_email,) = emails("autopay_paused_staff")
    assert owner_email.to == tenant.owner.email and owner_email.subject == "AutoPay paused for Ana Lima"
    assert f"/clients/{ana.pk}/billing/" in owner_email.text

    # The fourth night charges nothing.
    night_of(evening, datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK))
    run = run_night(tenant.practice, date(2026, 3, 8))
    assert run.counts["paused"] == 1 and AutoPayCharge.objects.count() == 3
    assert len(intent_posts(app_on_fake)) == 3

    # The pages say so, and how to resume.
    portal = portal_signed_in(ana).get("/portal/autopay/").content.decode()
    assert 'data-testid="autopay-status">Paused' in portal
    assert "Payment failed on 3 nights in a row. Nothing is charged automatically until you resume it." in portal
    assert "Resume AutoPay</button>" in portal
    biller = signed_in(tenant.biller)
    settings_tab = biller.get(url(tenant, "clients:settings", client_id=ana.pk)).content.decode()
    assert 'data-testid="client-autopay-paused"' in settings_tab and "Resume AutoPay</button>" in settings_tab
    home = biller.get(url(tenant, "billing:home")).content.decode()
    assert 'data-testid="autopay-paused"' in home and "Ana Lima</a>" in home


def test_a_paused_autopay_resumes_from_the_portal_and_from_a_new_card(app_on_fake, account, tenant, evening):
    from clients.autopay import autopay_pause
    from payments.models import CardSetup

    ana, enrolment = enrolled_client(app_on_fake, tenant.practice, card=CARD_CHARGE_FAILS)
    grant_portal(ana)
    autopay_pause(enrolment=enrolment, reason="Payment failed on 3 nights in a row.", actor=Actor.system("test"))
    browser = portal_signed_in(ana)

    response = browser.post("/portal/autopay/resume/", follow=True)

    text = response.content.decode()
    assert "AutoPay is on again. Visa •••• 0341 will be charged from the next night." in text
    enrolment.refresh_from_db()
    assert not enrolment.is_paused and enrolment.failures_in_a_row == 0
    assert "AutoPay is not paused." in browser.post("/portal/autopay/resume/", follow=True).content.decode()

    # Paused again; a new card saved from AutoPay's update link resumes it.
    enrolment.refresh_from_db()
    autopay_pause(enrolment=enrolment, reason="Payment failed on 3 nights in a row.", actor=Actor.system("test"))
    from payments.cards import card_link_replaces_default, card_link_token, card_setup_refresh, card_setup_start

    assert card_link_replaces_default(card_link_token(ana, replace_default=True))
    card_setup_start(client=ana, make_default=True)
    setup = CardSetup.objects.latest("pk")
    app_on_fake.control.pay_session(str(setup.stripe_checkout_session_id), "4242424242424242")
    card_setup_refresh(setup)
    enrolment.refresh_from_db()
    assert not enrolment.is_paused


def test_staff_resume_a_paused_autopay_from_the_settings_tab(app_on_fake, account, tenant, evening):
    from clients.autopay import autopay_pause

    ana, enrolment = enrolled_client(app_on_fake, tenant.practice)
    autopay_pause(enrolment=enrolment, reason="Payment failed on 3 nights in a row.", actor=Actor.system("test"))

    response = signed_in(tenant.biller).post(url(tenant, "payments:autopay_resume", client_id=ana.pk), follow=True)

    assert "AutoPay is on again for Ana Lima: the next night charges Visa •••• 4242." in response.content.decode()
    enrolment.refresh_from_db()
    assert not enrolment.is_paused
    assert signed_in(tenant.clinician).post(url(tenant, "payments:autopay_resume", client_id=ana.pk)).status_code in (
        403,
        404,
    )


def test_authentication_required_emails_the_client_a_link_to_finish_paying(app_on_fake, account, tenant, evening):
    ana, enrolment = enrolled_client(app_on_fake, tenant.practice, card=CARD_3DS_ALWAYS)
    grant_portal(ana)
    first = issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    second = issued_invoice(tenant.practice, ana, tenant.biller, "25.00")
    night_of(evening)

    run_night(tenant.practice)

    charge = AutoPayCharge.objects.get()
    assert charge.status == AutoPayCharge.Status.NEEDS_ACTION
    assert not emails("card_charge_action")
    (message,) = emails("autopay_action")
    assert message.to == ana.email
    assert message.subject == f"Please confirm your AutoPay payment to {tenant.practice.name}"
    # A payment link for each of the night's invoices, which the client can pay on-session.
    links = [w for w in message.text.split() if "/pay/" in w]
    assert len(links) == 2
    assert f"Invoice {first.number} ($50.00)" in message.text and f"Invoice {second.number} ($25.00)" in message.text
    enrolment.refresh_from_db()
    assert enrolment.failures_in_a_row == 0
    # The invoices are free to be paid by the link now.
    assert not CardChargeAttempt.objects.filter(allocations__in_flight=True).exists()
    page = portal_signed_in(ana).get("/portal/autopay/").content.decode()
    assert "$75.00 waits for you to confirm it with your bank" in page


def test_a_client_without_a_default_card_fails_the_night_and_is_told(app_on_fake, account, tenant, evening):
    ana, _ = enrolled_client(app_on_fake, tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    from payments.models import SavedCard

    SavedCard.objects.filter(client=ana).update(is_default=False)
    night_of(evening)

    run_night(tenant.practice)

    charge = AutoPayCharge.objects.get()
    assert (charge.status, charge.reason, charge.attempt) == ("failed", "No default card was saved to charge.", None)
    (message,) = emails("autopay_failed")
    assert "No default card was saved to charge." in message.text
    assert intent_posts(app_on_fake) == []


def test_a_pay_now_in_flight_for_the_invoice_is_not_charged_twice(app_on_fake, account, tenant, evening):
    from payments.card_charges import CHARGE_IN_PROGRESS, card_charge_create
    from payments.cards import default_card

    ana, _ = enrolled_client(app_on_fake, tenant.practice)
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    night_of(evening)
    card_charge_create(invoice=invoice, card=default_card(tenant.practice, ana), actor=tenant.biller)

    run_night(tenant.practice)

    charge = AutoPayCharge.objects.get()
    assert (charge.status, charge.reason) == (AutoPayCharge.Status.NOT_CHARGED, CHARGE_IN_PROGRESS)
    assert intent_posts(app_on_fake) == []


# --- safe to stop anywhere and to run again ------------------------------------------------


def test_a_row_left_pending_is_charged_by_the_sweeper(app_on_fake, account, tenant, evening):
    from payments.tasks import autopay_sweep_task

    ana, enrolment = enrolled_client(app_on_fake, tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    night_of(evening)
    # The run made the row and died before its task was queued.
    charge = autopay_night.autopay_charge_prepare(enrolment=enrolment, night=NIGHT)
    assert autopay_sweep_task() == 0  # too fresh: its task may still be on its way

    night_of(evening, NIGHT_TIME + timedelta(minutes=20))
    assert autopay_sweep_task() == 1

    charge.refresh_from_db()
    assert charge.status == AutoPayCharge.Status.SUCCEEDED
    assert autopay_sweep_task() == 0
    assert len(intent_posts(app_on_fake)) == 1


def test_an_attempt_made_but_never_sent_is_sent_once_by_the_rerun(app_on_fake, account, tenant, evening):
    ana, enrolment = enrolled_client(app_on_fake, tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    night_of(evening)
    charge = autopay_night.autopay_charge_prepare(enrolment=enrolment, night=NIGHT)
    # Killed at autopay.after_attempt: the attempt is committed, Stripe never called.
    attempt_id = autopay_night._attempt_start(charge.pk)
    charge.refresh_from_db()
    assert charge.status == AutoPayCharge.Status.CHARGING and charge.attempt_id == attempt_id

    counts = autopay_night_run(practice=tenant.practice, night=NIGHT)

    assert counts["queued"] == 1
    charge.refresh_from_db()
    assert charge.status == AutoPayCharge.Status.SUCCEEDED and CardChargeAttempt.objects.count() == 1
    (post,) = intent_posts(app_on_fake)
    assert post["idempotency_key"] == f"cardcharge:{attempt_id}:intent"


def test_a_charge_whose_answer_was_lost_is_resent_with_its_key_and_charged_once(
    app_on_fake, account, tenant, evening, settings
):
    from payments import gateway

    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    ana, _ = enrolled_client(app_on_fake, tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    night_of(evening)
    # Stripe charges the card, but every answer is lost: the outcome is unknown.
    app_on_fake.control.fail_next(
        "timeout", count=gateway.cards.CHARGE_TRIES, delay=1.0, perform=True, path="/v1/payment_intents", method="POST"
    )
    run_night(tenant.practice)
    charge = AutoPayCharge.objects.get()
    assert charge.status == AutoPayCharge.Status.CHARGING and not Payment.objects.exists()

    # The rerun sends the same key: Stripe answers with the PaymentIntent it made.
    autopay_night_run(practice=tenant.practice, night=NIGHT)

    charge.refresh_from_db()
    assert charge.status == AutoPayCharge.Status.SUCCEEDED
    assert len(fake_intents(app_on_fake)) == 1 and Payment.objects.count() == 1
    assert {p["idempotency_key"] for p in intent_posts(app_on_fake)} == {f"cardcharge:{charge.attempt_id}:intent"}


def test_the_database_allows_one_autopay_row_per_client_and_night(app_on_fake, account, tenant, evening):
    from django.db import IntegrityError, transaction

    ana, enrolment = enrolled_client(app_on_fake, tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    first = autopay_night.autopay_charge_prepare(enrolment=enrolment, night=NIGHT)
    assert autopay_night.autopay_charge_prepare(enrolment=enrolment, night=NIGHT) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoPayCharge.objects.create(
            practice=tenant.practice, enrolment=enrolment, client=ana, night=NIGHT, amount=1, currency="USD"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoPayCharge.objects.filter(pk=first.pk).update(status="succeeded")


def test_the_automations_page_lists_the_autopay_jobs(tenant):
    page = signed_in(tenant.owner).get(url(tenant, "automations")).content.decode()
    assert "Nightly AutoPay (12 AM to 6 AM)" in page and "AutoPay evening notices (6 PM)" in page


def next_runs(tenant) -> dict[str, str]:
    import re

    page = signed_in(tenant.owner).get(url(tenant, "automations")).content.decode()
    found = re.findall(r'<h2 id="job-(\w+)">.*?data-testid="next-run">(.*?)</p>', page, re.S)
    return {job: re.sub(r"<[^>]+>", "", shown) for job, shown in found}


def test_automations_shows_the_autopay_jobs_next_runs_in_local_time(app_on_fake, account, tenant):
    tenant.practice.timezone = "America/New_York"
    tenant.practice.save(update_fields=["timezone"])
    with time_machine.travel(datetime(2026, 3, 4, 15, 0, tzinfo=NEW_YORK), tick=False):
        # No client has AutoPay on: nothing is due
        before = next_runs(tenant)
        enrolled_client(app_on_fake, tenant.practice)
        afternoon = next_runs(tenant)
    with time_machine.travel(datetime(2026, 3, 4, 19, 0, tzinfo=NEW_YORK), tick=False):
        evening = next_runs(tenant)

    assert before["autopay_night"] == "Next run: Off" and before["autopay_evening"] == "Next run: Off"
    assert afternoon["autopay_evening"] == "Next run: 2026-03-04 18:00"
    assert afternoon["autopay_night"] == "Next run: 2026-03-05 00:00"
    assert evening["autopay_evening"] == "Next run: 2026-03-05 18:00"
    assert evening["autopay_night"] == "Next run: 2026-03-05 00:00"


def test_stripes_webhook_settles_a_charge_whose_answer_was_lost(
    app_on_fake, account, tenant, evening, settings, django_capture_on_commit_callbacks
):
    import json

    from django.test import Client as Browser
    from django.urls import reverse

    from payments import gateway

    from .conftest import CONNECT_SECRET

    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    ana, _ = enrolled_client(app_on_fake, tenant.practice)
    issued_invoice(tenant.practice, ana, tenant.biller, "50.00")
    night_of(evening)
    app_on_fake.control.fail_next(
        "timeout", count=gateway.cards.CHARGE_TRIES, delay=1.0, perform=True, path="/v1/payment_intents", method="POST"
    )
    run_night(tenant.practice)
    assert AutoPayCharge.objects.get().status == AutoPayCharge.Status.CHARGING

    # payment_intent.succeeded reaches the app (found by the attempt id in its metadata).
    assert app_on_fake.control.wait_for_webhooks(timeout=10)
    with app_on_fake.webhooks.lock:
        events = [
            i
            for i in app_on_fake.webhooks.received
            if i.path == "/connect" and json.loads(i.body)["type"] == "payment_intent.succeeded"
        ]
    with django_capture_on_commit_callbacks(execute=True):
        for item in events * 2:
            answer = Browser().post(
                reverse("stripe_webhook"),
                item.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=item.signature,
            )
            assert answer.status_code == 200

    charge = AutoPayCharge.objects.get()
    assert charge.status == AutoPayCharge.Status.SUCCEEDED and charge.settled_at is not None
    assert Payment.objects.count() == 1 and len(emails("payment_receipt")) == 1
    # The sweeper later finds nothing left to do.
    assert autopay_night.autopay_charges_unfinished(NIGHT_TIME + timedelta(hours=1)) == []
