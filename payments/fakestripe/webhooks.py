"""Signed webhook delivery with retries, as Stripe does it.

Each event goes to every endpoint that wants it: platform endpoints get the platform's own
events, Connect endpoints get events of connected accounts (those carry ``account``), and a
standalone account's endpoints (``account`` set) get that account's events only. The body
is signed with the endpoint's secret in Stripe's scheme, ``Stripe-Signature: t=<ts>,v1=<hex
HMAC-SHA256 of "<ts>.<body>">``, so ``stripe.Webhook.construct_event`` verifies it. A delivery
that times out or answers other than 2xx is tried again later.

For tests the dispatcher can hold events and release them shuffled or reversed, and deliver
each one several times: Stripe promises neither order nor exactly-once delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for a payload."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass
class Endpoint:
    url: str
    secret: str
    connect: bool = False
    enabled_events: list[str] = field(default_factory=lambda: ["*"])
    # The standalone account this endpoint was added by (in that account's own dashboard).
    account: str | None = None

    def wants(self, event: Obj) -> bool:
        owner = event.get("_account")
        if self.account is not None or owner is not None:
            if owner != self.account:
                return False
        elif bool(event.get("account")) != self.connect:
            return False
        return any(
            pattern == "*"
            or pattern == event["type"]
            or (pattern.endswith(".*") and event["type"].startswith(pattern[:-1]))
            for pattern in self.enabled_events
        )

    def public(self) -> Obj:
        return {
            "url": self.url,
            "connect": self.connect,
            "account": self.account,
            "enabled_events": self.enabled_events,
        }


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event: Obj = field(compare=False)
    endpoint: Endpoint = field(compare=False)
    attempt: int = field(compare=False, default=1)


class Dispatcher:
    def __init__(
        self,
        endpoints: list[Endpoint] | None = None,
        *,
        timeout: float = 5.0,
        retry_delays: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0),
    ) -> None:
        self.endpoints: list[Endpoint] = list(endpoints or [])
        self.timeout = timeout
        self.retry_delays = retry_delays
        self.duplicate = 1
        self.hold = False
        self._held: list[Obj] = []
        self._jobs: list[_Job] = []
        self._seq = 0
        self._busy = False
        self.deliveries: list[Obj] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="fakestripe-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=self.timeout + 1)

    def reset(self) -> None:
        with self._cond:
            self._jobs.clear()
            self._held.clear()
            self.deliveries.clear()
            # A standalone account's endpoints go with the accounts the store forgets.
            self.endpoints = [e for e in self.endpoints if e.account is None]
            self.duplicate = 1
            self.hold = False

    def configure(self, *, duplicate: int | None = None, hold: bool | None = None) -> None:
        with self._cond:
            if duplicate is not None:
                self.duplicate = max(1, duplicate)
            if hold is not None:
                self.hold = hold

    def enqueue(self, event: Obj) -> None:
        with self._cond:
            if self.hold:
                self._held.append(event)
                return
            for _ in range(self.duplicate):
                self._schedule(event)
            self._cond.notify_all()

    def flush(self, *, order: str = "in_order", duplicate: int = 1) -> int:
        """Release held events (and stop holding): in order, reversed or shuffled, each ``duplicate`` times."""
        with self._cond:
            events = [e for e in self._held for _ in range(max(1, duplicate))]
            self._held.clear()
            self.hold = False
            if order == "reverse":
                events.reverse()
            elif order == "shuffle":
                random.shuffle(events)
            elif order != "in_order":
                raise ValueError(order)
            for event in events:
                self._schedule(event)
            self._cond.notify_all()
            return len(events)

    def _schedule(self, event: Obj, endpoint: Endpoint | None = None, attempt: int = 1, delay: float = 0.0) -> None:
        targets = [endpoint] if endpoint else [e for e in self.endpoints if e.wants(event)]
        for target in targets:
            self._seq += 1
            self._jobs.append(_Job(time.monotonic() + delay, self._seq, event, target, attempt))
        self._jobs.sort()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery (and retry) is done; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (not self._jobs or self._jobs[0].due > time.monotonic()):
                    wait = self._jobs[0].due - time.monotonic() if self._jobs else None
                    self._cond.wait(wait)
                if self._stop:
                    return
                job = self._jobs.pop(0)
                self._busy = True
            try:
                status, error = self._deliver(job)
            finally:
                with self._cond:
                    self._busy = False
                    ok = status is not None and 200 <= status < 300
                    self.deliveries.append(
                        {
                            "event": job.event["id"],
                            "type": job.event["type"],
                            "account": job.event.get("account"),
                            "url": job.endpoint.url,
                            "attempt": job.attempt,
                            "status": status,
                            "error": error,
                            "ok": ok,
                        }
                    )
                    if not ok and job.attempt <= len(self.retry_delays):
                        self._schedule(job.event, job.endpoint, job.attempt + 1, self.retry_delays[job.attempt - 1])
                    self._cond.notify_all()

    def _deliver(self, job: _Job) -> tuple[int | None, str | None]:
        payload = json.dumps({k: v for k, v in job.event.items() if not k.startswith("_")}, indent=2)
        request = urllib.request.Request(  # noqa: S310  (the endpoint URL is configured, http on loopback)
            job.endpoint.url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(payload, job.endpoint.secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code}"
        except (OSError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
