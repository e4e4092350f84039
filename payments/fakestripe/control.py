"""A small client for the fake's /_control API, for tests and the demo setup."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

Obj = dict[str, Any]


class ControlClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def call(self, method: str, route: str, body: Obj | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        request = urllib.request.Request(  # noqa: S310  (the fake's own loopback URL)
            f"{self.base_url}/_control/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def reset(self) -> None:
        self.call("POST", "reset")

    def requests(self) -> list[Obj]:
        return list(self.call("GET", "requests")["data"])

    def fail_next(
        self,
        kind: str,
        *,
        count: int = 1,
        delay: float = 0.0,
        perform: bool = False,
        method: str | None = None,
        path: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        """Make the next ``count`` matching API requests fail: kind "500", "429", "timeout" or "slow"."""
        self.call(
            "POST",
            "faults",
            {
                "kind": kind,
                "count": count,
                "delay": delay,
                "perform": perform,
                "method": method,
                "path": path,
                "should_retry": should_retry,
            },
        )

    def fail_rate(
        self,
        kinds: list[str],
        rate: float,
        *,
        seed: int = 0,
        delay: float = 0.0,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """From now on, fail each matching API request with probability ``rate``, as one of
        ``kinds`` ("500", "429", "timeout", "timeout_performed", "slow") drawn from a
        generator seeded with ``seed``. Cleared by ``clear_faults`` or ``reset``."""
        self.call(
            "POST",
            "faults/rate",
            {"kinds": kinds, "rate": rate, "seed": seed, "delay": delay, "method": method, "path": path},
        )

    def clear_faults(self) -> None:
        """Drop the queued faults and any fault rate."""
        self.call("DELETE", "faults")

    def advance_clock(self, seconds: int) -> int:
        return int(self.call("POST", "clock", {"advance": seconds})["now"])

    def create_account(self, **body: Any) -> Obj:
        return dict(self.call("POST", "accounts", body))

    def onboard(self, account: str, state: str = "complete") -> Obj:
        return dict(self.call("POST", f"accounts/{account}/onboarding", {"state": state}))

    def pay_session(self, session_id: str, card: str = "4242424242424242", **body: Any) -> Obj:
        return dict(self.call("POST", f"checkout/sessions/{session_id}/pay", {"card": card, **body}))

    def authenticate(self, intent_id: str, success: bool = True) -> Obj:
        return dict(self.call("POST", f"intents/{intent_id}/authenticate", {"success": success}))

    def open_dispute(self, charge: str, **body: Any) -> Obj:
        return dict(self.call("POST", "disputes", {"charge": charge, **body}))

    def close_dispute(self, dispute: str, outcome: str) -> Obj:
        return dict(self.call("POST", f"disputes/{dispute}/close", {"outcome": outcome}))

    def payout(self, account: str | None = None, currency: str | None = None) -> Obj:
        return dict(self.call("POST", "payouts", {"account": account, "currency": currency}))

    def add_webhook_endpoint(self, url: str, secret: str, *, connect: bool = False, account: str | None = None) -> Obj:
        """An endpoint for the platform's events, connected accounts' (``connect``), or one
        standalone account's own (``account``)."""
        body = {"url": url, "secret": secret, "connect": connect, "account": account}
        return dict(self.call("POST", "webhooks/endpoints", body))

    def standalone_account(self, **body: Any) -> Obj:
        """A standalone Stripe account with its own keys: {"account", "secret_key", "publishable_key"}."""
        return dict(self.call("POST", "standalone_accounts", body))

    def revoke_key(self, key: str) -> None:
        """Make Stripe refuse a standalone account's secret key from now on (as rolling it does)."""
        self.call("POST", "api_keys/revoke", {"key": key})

    def webhooks(self, *, duplicate: int | None = None, hold: bool | None = None) -> Obj:
        return dict(self.call("POST", "webhooks", {"duplicate": duplicate, "hold": hold}))

    def flush_webhooks(self, order: str = "in_order", duplicate: int = 1) -> int:
        return int(self.call("POST", "webhooks/flush", {"order": order, "duplicate": duplicate})["released"])

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return bool(self.call("POST", "webhooks/wait", {"timeout": timeout})["idle"])

    def deliveries(self) -> list[Obj]:
        return list(self.call("GET", "webhooks/deliveries")["data"])

    def resend_event(self, event_id: str) -> None:
        self.call("POST", f"events/{event_id}/resend")
