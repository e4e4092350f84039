"""Demo mode: Harbour Street connected to the fake Stripe, Kowhai not; make run starts the fake."""

from __future__ import annotations

import os
import socket
import urllib.request

import pytest

from payments.demo import HARBOUR_ACCOUNT
from payments.fakestripe import ControlClient
from payments.models import StripeAccount
from practice import run
from practice.demo import HARBOUR, KOWHAI, load_demo_data
from practice.models import Practice


@pytest.mark.django_db
def test_demo_connects_harbour_to_the_fake_and_leaves_kowhai_to_onboard(app_on_fake):
    load_demo_data()
    load_demo_data()

    harbour = Practice.objects.get(slug=HARBOUR["slug"])
    kowhai = Practice.objects.get(slug=KOWHAI["slug"])
    account = StripeAccount.objects.get()
    assert (account.practice, account.stripe_account_id) == (harbour, HARBOUR_ACCOUNT)
    assert account.status == StripeAccount.Status.CONNECTED
    assert harbour.online_payments_enabled is True
    assert kowhai.online_payments_enabled is False
    fake_accounts = [o for o in app_on_fake.control.call("GET", "state").values() if o["object"] == "account"]
    assert [a["id"] for a in fake_accounts] == [HARBOUR_ACCOUNT]


@pytest.mark.django_db
def test_demo_gives_one_harbour_client_a_saved_card_for_pay_now(app_on_fake):
    from billing.models import Invoice
    from payments.models import SavedCard

    load_demo_data()
    load_demo_data()

    harbour = Practice.objects.get(slug=HARBOUR["slug"])
    card = SavedCard.objects.get()
    assert (card.practice, card.label, card.is_default) == (harbour, "Visa •••• 4242", True)
    assert Invoice.objects.filter(client=card.client, status=Invoice.Status.OPEN, balance__gt=0).exists()
    state = app_on_fake.control.call("GET", "state")
    assert state[card.stripe_payment_method_id]["customer"] == card.customer.stripe_customer_id


@pytest.mark.django_db
def test_without_the_fake_the_demo_connects_nothing(settings):
    settings.STRIPE_API_BASE = ""
    load_demo_data()
    assert not StripeAccount.objects.exists()


def test_run_starts_the_fake_for_the_demo_data_and_keeps_its_state(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "FAKE_STRIPE_STATE", tmp_path / "fakestripe.json")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ}
    with run._fake_stripe_for_setup("127.0.0.1", port, env):
        ControlClient(f"http://127.0.0.1:{port}").create_account(id="acct_1KeptAcrossRuns0", onboarding="complete")
    assert run._port_free("127.0.0.1", port)  # stopped
    assert "acct_1KeptAcrossRuns0" in (tmp_path / "fakestripe.json").read_text()
    with run._fake_stripe_for_setup("127.0.0.1", port, env):
        state = urllib.request.urlopen(f"http://127.0.0.1:{port}/_control/state", timeout=5).read().decode()
    assert "acct_1KeptAcrossRuns0" in state
