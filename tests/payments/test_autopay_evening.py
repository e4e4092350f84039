"""Issue 16, part 4: the evening before AutoPay charges, both sides are told the amount.
At 6 PM in the practice's time zone each client to be charged that night gets the amount,
the card and how to skip; a client above their maximum is asked to approve; the owners and
billers get one summary of who will be charged what. Each email once per night."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from payments import autopay_night
from payments.autopay import autopay_skip
from practice.actor import Actor
from practice.jobs import job_run, jobs_due
from practice.models import JobRun, OutgoingEmail
from tests.factories import ClientFactory, issued_invoice
from tests.portal import grant_portal, portal_signed_in

from .autopay_helpers import enrolled_client, takes_charges

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
AFTERNOON = datetime(2026, 3, 4, 15, 0, tzinfo=NEW_YORK)
EVENING = datetime(2026, 3, 4, 18, 5, tzinfo=NEW_YORK)
TODAY = date(2026, 3, 4)
TONIGHT = date(2026, 3, 5)


@pytest.fixture
def clients(app_on_fake, tenant, time_machine):
    """Ana owes $230 (no cap), Ben $150 above his $100 cap, Cleo $40 but skips tonight, and
    Dan owes nothing; Eve is a client without AutoPay."""
    practice = tenant.practice
    takes_charges(app_on_fake, practice)
    time_machine.move_to(AFTERNOON, tick=True)
    ana, _ = enrolled_client(app_on_fake, practice)
    grant_portal(ana)
    issued_invoice(practice, ana, tenant.biller, "150.00", "80.00")
    ben, _ = enrolled_client(app_on_fake, practice, first="Ben", last="Marsh", cap="100")
    grant_portal(ben)
    issued_invoice(practice, ben, tenant.biller, "150.00")
    cleo, _ = enrolled_client(app_on_fake, practice, first="Cleo", last="Park")
    issued_invoice(practice, cleo, tenant.biller, "40.00")
    autopay_skip(client=cleo, night=TONIGHT, actor=Actor.of_portal(cleo.email))
    enrolled_client(app_on_fake, practice, first="Dan", last="Reyes")
    eve = ClientFactory(practice=practice, first_name="Eve", last_name="Stone", email="eve@mail.test")
    issued_invoice(practice, eve, tenant.biller, "60.00")
    time_machine.move_to(EVENING, tick=True)
    return ana, ben, cleo


def evening_run(practice):
    return job_run(practice_id=practice.pk, job_name=autopay_night.EVENING_JOB, local_date=TODAY)


def test_the_evening_job_is_due_from_6_pm_local_time(clients, tenant, time_machine):
    time_machine.move_to(datetime(2026, 3, 4, 17, 59, tzinfo=NEW_YORK), tick=False)
    assert (tenant.practice.pk, autopay_night.EVENING_JOB, TODAY) not in jobs_due()
    time_machine.move_to(EVENING, tick=False)
    assert (tenant.practice.pk, autopay_night.EVENING_JOB, TODAY) in jobs_due()


def test_each_client_to_be_charged_gets_the_evening_notice_once(clients, tenant):
    ana, ben, cleo = clients

    run = evening_run(tenant.practice)

    assert run.counts == {"to_charge": 1, "waiting_for_approval": 1, "skipped": 1}
    (notice,) = OutgoingEmail.objects.filter(topic="autopay_evening_notice")
    assert notice.to == ana.email
    assert notice.subject == "Tonight's AutoPay with Harbour Street Therapy: $230.00"
    assert "AutoPay will charge $230.00 to your Visa •••• 4242" in notice.text
    assert "the night of Thursday 5 March" in notice.text
    # The link goes to the portal's AutoPay page, which shows the same notice with Skip tonight.
    link = next(w for w in notice.text.split() if "/portal/autopay/" in w)
    page = portal_signed_in(ana).get(link.replace("http://127.0.0.1:8000", "")).content.decode()
    assert 'data-testid="autopay-tonight-amount">$230.00' in page and "Skip tonight</button>" in page
    # Ben, above his maximum, is asked to approve; Cleo skipped and Dan owes nothing: no email.
    (approval,) = OutgoingEmail.objects.filter(topic="autopay_approval")
    assert approval.to == ben.email and approval.subject == "Approve tonight's AutoPay with Harbour Street Therapy?"
    assert "would charge $150.00, more than your maximum of $100.00 per night" in approval.text
    assert "/portal/autopay/" in approval.text
    assert not OutgoingEmail.objects.filter(to=cleo.email, topic__startswith="autopay").exists()

    # Run again (Run now, a retried job): nothing more is sent.
    assert evening_run(tenant.practice) is None
    autopay_night.autopay_evening_run(practice=tenant.practice, night=TONIGHT)
    assert OutgoingEmail.objects.filter(topic="autopay_evening_notice").count() == 1
    assert OutgoingEmail.objects.filter(topic="autopay_approval").count() == 1


def test_owners_and_billers_get_one_summary_of_who_will_be_charged_what(clients, tenant):
    evening_run(tenant.practice)
    autopay_night.autopay_evening_run(practice=tenant.practice, night=TONIGHT)

    summaries = OutgoingEmail.objects.filter(topic="autopay_evening_summary")
    assert sorted(s.to for s in summaries) == sorted([tenant.owner.email, tenant.biller.email])
    summary = summaries.get(to=tenant.owner.email)
    assert summary.subject == "AutoPay tonight: 1 client, $230.00 (Harbour Street Therapy)"
    text = summary.text
    assert "the night of Thursday 5 March 2026 (12 AM to 6 AM): 1 client, $230.00 in all." in text
    assert "- Ana Lima: $230.00 (Visa •••• 4242)" in text
    assert "- Ben Marsh: $150.00" in text and "Skipping tonight: Cleo Park." in text
    assert "Dan" not in text and "Eve" not in text


def test_a_client_without_portal_access_is_told_to_contact_the_practice(clients, tenant):
    ana, _ben, _cleo = clients
    ana.portal_access.revoked_at = ana.portal_access.granted_at
    ana.portal_access.save()

    evening_run(tenant.practice)

    notice = OutgoingEmail.objects.get(topic="autopay_evening_notice")
    assert "contact Harbour Street Therapy before midnight" in notice.text and "/portal/" not in notice.text


def test_an_approval_before_the_evening_makes_it_a_notice(clients, tenant):
    from payments.autopay import autopay_approve

    ana, ben, _cleo = clients
    autopay_approve(client=ben, night=TONIGHT, amount=Decimal("150.00"), actor=Actor.of_portal(ben.email))

    evening_run(tenant.practice)

    assert sorted(OutgoingEmail.objects.filter(topic="autopay_evening_notice").values_list("to", flat=True)) == sorted(
        [ana.email, ben.email]
    )
    assert not OutgoingEmail.objects.filter(topic="autopay_approval").exists()
    assert JobRun.objects.get(job=autopay_night.EVENING_JOB).counts["to_charge"] == 2
