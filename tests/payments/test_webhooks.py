"""Stripe webhooks: POST /stripe/webhook/ verifies, stores each event once and hands it to a
worker, which calls the registered handler and records the outcome."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from payments import webhooks
from payments.fakestripe import sign
from payments.models import WebhookEvent
from payments.tasks import webhook_events_sweep_task
from payments.webhooks import (
    IGNORED_NO_HANDLER,
    IGNORED_UNKNOWN_ACCOUNT,
    SWEEP_AFTER,
    WebhookContext,
    webhook_handler,
    webhook_handler_remove,
)
from tests.workers import real_worker

from .conftest import CONNECT_SECRET, PLATFORM_SECRET
from .helpers import wait_until

URL = "/stripe/webhook/"
ACCOUNT = "acct_1KnownPractice"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = PLATFORM_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET


class Recorder:
    """A handler that records what it did: its effect per event, and the state it converged on."""

    def __init__(self) -> None:
        self.effects: list[str] = []
        self.state: dict[str, Any] = {}
        self.fail_next: list[BaseException] = []

    def __call__(self, context: WebhookContext) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        current = context.current()
        self.state[str(current["id"])] = current.get("charges_enabled", current.get("email"))
        self.effects.append(context.event.stripe_id)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    types = ("account.updated", "customer.created")
    registered = {t: webhooks._handlers.get(t) for t in types}  # the app's own (payments.apps)
    webhook_handler_remove(*types)
    webhook_handler(*types)(recorder)
    known = {ACCOUNT}
    previous_lookup = webhooks.register_account_lookup(lambda account: account in known)
    # Without a fake Stripe: the object as the event carried it stands for its current state.
    previous_reread = webhooks.register_reread(lambda kind, id_, account: {"id": id_, "email": "x@example.test"})
    recorder.known = known  # type: ignore[attr-defined]
    yield recorder
    webhook_handler_remove(*types)
    for type_, handler in registered.items():
        if handler is not None:
            webhook_handler(type_)(handler)
    webhooks.register_account_lookup(previous_lookup)
    webhooks.register_reread(previous_reread)


def event(type_: str = "account.updated", account: str | None = ACCOUNT, **extra: Any) -> dict[str, Any]:
    obj = {"id": account or "cus_1", "object": "account" if account else "customer"}
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
        **({"account": account} if account else {}),
        **extra,
    }


def post(client: Client, payload: dict[str, Any], secret: str | None = None, **sign_kw: Any) -> Any:
    body = json.dumps(payload)
    if secret is None:
        secret = CONNECT_SECRET if payload.get("account") else PLATFORM_SECRET
    headers = {"HTTP_STRIPE_SIGNATURE": sign(body, secret, **sign_kw)} if secret else {}
    return client.post(URL, body, content_type="application/json", **headers)


# -- signature -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_connect_event_is_stored_and_handled(client, recorder, django_capture_on_commit_callbacks):
    payload = event()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, payload)
    assert response.status_code == 200
    row = WebhookEvent.objects.get()
    assert (row.stripe_id, row.type, row.account, row.livemode) == (payload["id"], "account.updated", ACCOUNT, False)
    assert row.payload == payload
    assert (row.status, row.attempts, row.last_error) == ("processed", 1, "")
    assert row.processed_at is not None
    assert recorder.effects == [payload["id"]]


@pytest.mark.django_db
def test_a_platform_event_is_verified_with_the_platform_secret(client, recorder, django_capture_on_commit_callbacks):
    payload = event("customer.created", account=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, payload, PLATFORM_SECRET).status_code == 200
    assert WebhookEvent.objects.get().status == "processed"
    # The Connect secret does not stand in for the platform's, nor the other way round.
    assert post(client, event("customer.created", account=None), CONNECT_SECRET).status_code == 400
    assert post(client, event(), PLATFORM_SECRET).status_code == 400
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "secret", "sign_kw"),
    [
        ("wrong secret", "whsec_someone_else", {}),
        ("older than five minutes", CONNECT_SECRET, {"timestamp": int(time.time()) - 301}),
        ("no signature", "", {}),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(client, recorder, case, secret, sign_kw):
    response = post(client, event(), secret, **sign_kw)
    assert response.status_code == 400, case
    assert WebhookEvent.objects.count() == 0
    assert recorder.effects == []


@pytest.mark.django_db
def test_a_tampered_body_or_garbage_is_refused(client, recorder):
    payload = event()
    body = json.dumps(payload)
    header = sign(body, CONNECT_SECRET)
    tampered = body.replace('"livemode": false', '"livemode": true')
    assert client.post(URL, tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header).status_code == 400
    garbage = "not json"
    assert (
        client.post(
            URL, garbage, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(garbage, CONNECT_SECRET)
        ).status_code
        == 400
    )
    assert client.get(URL).status_code == 405
    assert WebhookEvent.objects.count() == 0


# -- outcomes --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_delivery_answers_200_and_changes_nothing(client, recorder, django_capture_on_commit_callbacks):
    payload = event()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload)
    before = WebhookEvent.objects.values().get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post(client, payload).status_code == 200
    assert callbacks == []
    assert WebhookEvent.objects.values().get() == before
    assert recorder.effects == [payload["id"]]


@pytest.mark.django_db
def test_an_event_of_an_unknown_account_is_recorded_and_ignored(client, recorder, django_capture_on_commit_callbacks):
    payload = event(account="acct_1NotOurs")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, payload).status_code == 200
    row = WebhookEvent.objects.get()
    assert (row.status, row.last_error, row.account) == ("ignored", IGNORED_UNKNOWN_ACCOUNT, "acct_1NotOurs")
    assert recorder.effects == []


@pytest.mark.django_db
def test_an_event_type_without_handler_is_ignored(client, recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        # payout.* has a handler now (payments/payouts.py): balance.available has none.
        post(client, event("balance.available"))
    assert WebhookEvent.objects.values_list("status", "last_error").get() == ("ignored", IGNORED_NO_HANDLER)


@pytest.mark.django_db
def test_a_failing_handler_marks_failed_and_the_sweeper_retries_it(
    client, recorder, django_capture_on_commit_callbacks
):
    recorder.fail_next.append(ConnectionError("Stripe answered 500"))
    payload = event()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload)
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "ConnectionError: Stripe answered 500")
    assert row.retry_at is not None and row.processed_at is None
    assert recorder.effects == []
    # Not before its retry time...
    assert webhook_events_sweep_task.apply().get() == 0
    # ...and then the sweeper tries again, and the handler succeeds.
    with time_machine.travel(row.retry_at + timedelta(seconds=1)):
        assert webhook_events_sweep_task.apply().get() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error, row.retry_at) == ("processed", 2, "", None)
    assert recorder.effects == [payload["id"]]


class WorkerKilled(BaseException):
    """Stands for the worker process dying mid-handler (nothing catches it)."""


@pytest.mark.django_db
def test_a_crash_mid_handling_leaves_the_event_for_the_sweeper(client, recorder, django_capture_on_commit_callbacks):
    recorder.fail_next.append(WorkerKilled())
    payload = event()
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        post(client, payload)
    row = WebhookEvent.objects.get()
    # The transaction rolled back: the event is as received, for the broker's redelivery or the sweeper.
    assert (row.status, row.attempts, row.processed_at) == ("received", 0, None)
    assert webhook_events_sweep_task.apply().get() == 0
    with time_machine.travel(timezone.now() + SWEEP_AFTER + timedelta(seconds=1)):
        assert webhook_events_sweep_task.apply().get() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("processed", 1)
    assert recorder.effects == [payload["id"]]


# -- replay through the fake Stripe over HTTP ------------------------------------------------


@pytest.fixture
def fake_to_app(fake_stripe, live_server, recorder) -> Iterator[Any]:
    """The fake delivers webhooks to the app's endpoint (platform and Connect), and the app's
    handlers re-read objects from the fake."""
    dispatcher = fake_stripe.server.dispatcher
    saved = list(dispatcher.endpoints)
    fake_stripe.control.add_webhook_endpoint(live_server.url + URL, PLATFORM_SECRET)
    fake_stripe.control.add_webhook_endpoint(live_server.url + URL, CONNECT_SECRET, connect=True)
    client = fake_stripe.client()

    def reread(kind: str, id_: str, account: str | None) -> dict[str, Any]:
        options: Any = {"stripe_account": account} if account and kind != "account" else {}
        if kind == "account":
            return client.v1.accounts.retrieve(id_).to_dict()
        if kind == "customer":
            return client.v1.customers.retrieve(id_, options=options).to_dict()
        raise AssertionError(kind)

    previous = webhooks.register_reread(reread)
    try:
        yield fake_stripe
    finally:
        assert fake_stripe.control.wait_for_webhooks(timeout=20)
        webhooks.register_reread(previous)
        dispatcher.endpoints[:] = saved


def rows() -> list[tuple[str, str, str, str, int, str]]:
    return sorted(WebhookEvent.objects.values_list("stripe_id", "type", "account", "status", "attempts", "last_error"))


@pytest.mark.django_db(transaction=True)
def test_each_event_three_times_shuffled_leaves_the_rows_of_one_ordered_delivery(fake_to_app, recorder):
    fake = fake_to_app
    control = fake.control
    # Given Stripe events about two practices' accounts, one account that is nobody's, and the platform
    control.webhooks(hold=True)
    ours = [control.create_account(email=f"owner{i}@example.test")["id"] for i in range(2)]
    stranger = control.create_account(email="stranger@example.test")["id"]
    recorder.known.update(ours)  # type: ignore[attr-defined]
    for account in [*ours, stranger]:
        control.onboard(account, "pending")
        control.onboard(account, "complete")
    fake.client().v1.customers.create({"email": "payer@example.test"})
    event_ids = [e["id"] for e in fake.server.store.objects.values() if e.get("object") == "event"]
    assert len(event_ids) >= 7

    # When they are delivered once, in order
    assert control.flush_webhooks("in_order") == len(event_ids)
    assert control.wait_for_webhooks(timeout=30)
    once = rows()
    effects_once = Counter(recorder.effects)
    state_once = dict(recorder.state)
    assert len(once) == len(event_ids)

    # and again from scratch, each event three times, shuffled
    WebhookEvent.objects.all().delete()
    recorder.effects.clear()
    recorder.state.clear()
    control.webhooks(hold=True)
    for event_id in event_ids:
        control.resend_event(event_id)
    assert control.flush_webhooks("shuffle", duplicate=3) == 3 * len(event_ids)
    assert control.wait_for_webhooks(timeout=30)

    # Then the rows are those of the ordered delivery, every delivery was answered 200, and the
    # handler acted once per event, converging on the accounts' current state
    assert rows() == once
    assert all(d["ok"] for d in control.deliveries())
    assert Counter(recorder.effects) == effects_once
    assert set(effects_once.values()) == {1}
    assert recorder.state == state_once
    assert {recorder.state[a] for a in ours} == {True}
    statuses = Counter(status for _, _, account, status, _, _ in once if account == stranger)
    assert statuses == Counter({"ignored": 2})  # its two onboarding steps


# -- a real worker ---------------------------------------------------------------------------


@pytest.fixture
def worker():
    with real_worker("payments.tasks.webhook_event_process") as running:
        yield running


@pytest.mark.django_db(transaction=True)
def test_the_worker_handles_a_stored_event(client, recorder, worker):
    payload = event()
    # The request only stores and queues: the worker handles the event shortly after
    assert post(client, payload).status_code == 200
    wait_until(lambda: WebhookEvent.objects.get().status == "processed", timeout=30)
    assert recorder.effects == [payload["id"]]
