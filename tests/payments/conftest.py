"""The fake Stripe server, started once per test session and reset before each test.

``fake_stripe`` gives its base URL, a control client, a stripe-python client pointed at it, and a
webhook receiver (a small HTTP server on loopback that keeps what it is sent).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from payments.fakestripe import ControlClient, Endpoint, FakeStripe
from tests import stripe_requests

PLATFORM_SECRET = "whsec_test_platform"
CONNECT_SECRET = "whsec_test_connect"
TEST_KEY = stripe_requests.HARNESS_KEY


@dataclass
class Received:
    path: str
    signature: str
    body: bytes


@dataclass
class WebhookReceiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Answer these statuses to the next deliveries (then 200), to exercise retries.
    answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.answers.clear()


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    holder: dict[str, WebhookReceiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver = holder["r"]
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                if status == 200:
                    receiver.received.append(Received(self.path, self.headers.get("Stripe-Signature", ""), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["r"]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def _fake_stripe_server(webhook_receiver: WebhookReceiver) -> Iterator[FakeStripe]:
    endpoints = [
        Endpoint(url=webhook_receiver.url + "/platform", secret=PLATFORM_SECRET),
        Endpoint(url=webhook_receiver.url + "/connect", secret=CONNECT_SECRET, connect=True),
    ]
    with FakeStripe(webhooks=endpoints, webhook_timeout=2.0, webhook_retry_delays=(0.05, 0.1, 0.2)) as fake:
        yield fake


@dataclass
class FakeStripeHandle:
    url: str
    control: ControlClient
    server: FakeStripe
    webhooks: WebhookReceiver

    def client(self, *, timeout: float = 5.0, retries: int = 0) -> stripe.StripeClient:
        return stripe.StripeClient(
            TEST_KEY,
            base_addresses={"api": self.url, "connect": self.url, "files": self.url},
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )


@pytest.fixture
def fake_stripe(
    _fake_stripe_server: FakeStripe, webhook_receiver: WebhookReceiver, request: pytest.FixtureRequest
) -> Iterator[FakeStripeHandle]:
    control = ControlClient(_fake_stripe_server.url)
    control.reset()
    webhook_receiver.clear()
    yield FakeStripeHandle(_fake_stripe_server.url, control, _fake_stripe_server, webhook_receiver)
    control.wait_for_webhooks(timeout=5)
    # Every request of this test, for the session's scan of what the app sent (tests/conftest.py).
    stripe_requests.STORE.collect(control.requests(), request.node.nodeid)


@pytest.fixture
def app_on_fake(fake_stripe: FakeStripeHandle, settings: pytest.FixtureRequest) -> FakeStripeHandle:
    """The app's gateway pointed at the fake, as ``make run`` does without Stripe keys."""
    settings.STRIPE_API_BASE = fake_stripe.url  # type: ignore[attr-defined]
    settings.STRIPE_SECRET_KEY = ""  # type: ignore[attr-defined]
    settings.STRIPE_TIMEOUT_SECONDS = 5.0  # type: ignore[attr-defined]
    return fake_stripe
