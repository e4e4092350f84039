"""The HTTP server: Stripe's /v1 API, the hosted pages, and a /_control API for tests.

A ``ThreadingHTTPServer`` on loopback, so stripe-python talks to it over real HTTP exactly as it
talks to api.stripe.com. Every /v1 request needs a test secret key; the Stripe-Account header
scopes it to a connected account; an Idempotency-Key on a POST replays the first response.

Any test key is the platform's, except the keys of standalone accounts (made with the control
call ``standalone_accounts``, as a practice's own Stripe account): a request with one acts on
that account, with no Stripe-Account header, and its events name no account. A revoked key
(``api_keys/revoke``, as after rolling it) is refused with Stripe's 401.
"""

from __future__ import annotations

import copy
import json
import random
import secrets
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from . import pages, shapes
from .api import Api, Call
from .errors import (
    ApiError,
    api_error,
    authentication,
    idempotency_in_progress,
    idempotency_mismatch,
    permission,
    rate_limit,
)
from .formdata import parse
from .shapes import API_VERSION
from .store import Store
from .webhooks import Dispatcher, Endpoint

Obj = dict[str, Any]


@dataclass
class Fault:
    """What the next matching /v1 request meets instead of (or on top of) a normal answer.

    kind: "500" (api_error), "429" (rate limit), "slow" (answer after ``delay``), or "timeout":
    hold the connection ``delay`` seconds (past the client's timeout) and close it; with
    ``perform`` the request is carried out first, so the caller "timed out but was charged".
    """

    kind: str
    delay: float = 0.0
    perform: bool = False
    method: str | None = None
    path: str | None = None
    should_retry: bool | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


# The kinds a FaultRate draws from: a Fault's, plus "timeout_performed" (a timeout whose
# request was carried out first: the caller "timed out but was charged").
RATE_KINDS = ("500", "429", "timeout", "timeout_performed", "slow")


@dataclass
class FaultRate:
    """Every matching /v1 request fails with probability ``rate``, as one of ``kinds``
    picked at random, from a generator seeded with ``seed`` (so a run that sends the same
    requests in the same order meets the same faults). Queued Faults come first."""

    kinds: tuple[str, ...]
    rate: float
    seed: int = 0
    delay: float = 0.0
    method: str | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)  # noqa: S311 - a test's fault pattern, not a secret

    def draw(self, method: str, path: str) -> Fault | None:
        if (self.method is not None and self.method != method) or (
            self.path is not None and not path.startswith(self.path)
        ):
            return None
        if self.random.random() >= self.rate:
            return None
        kind = self.random.choice(self.kinds)
        if kind == "timeout_performed":
            return Fault("timeout", delay=self.delay, perform=True)
        return Fault(kind, delay=self.delay)

    def describe(self) -> Obj:
        return {
            "kinds": list(self.kinds),
            "rate": self.rate,
            "seed": self.seed,
            "delay": self.delay,
            "method": self.method,
            "path": self.path,
        }


class FakeStripe:
    """A running fake: ``with FakeStripe(webhooks=[...]) as fake: ... fake.url``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhooks: list[Endpoint] | None = None,
        state_path: str | None = None,
        public_url: str | None = None,
        webhook_timeout: float = 5.0,
        webhook_retry_delays: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0),
        verbose: bool = False,
    ) -> None:
        self.dispatcher = Dispatcher(webhooks, timeout=webhook_timeout, retry_delays=webhook_retry_delays)
        self.store = Store(on_event=self.dispatcher.enqueue, path=state_path)
        self.api = Api(self.store, lambda: self.public_url)
        self.verbose = verbose
        self.faults: list[Fault] = []
        self.fault_rate: FaultRate | None = None
        self.requests: list[Obj] = []
        # (account, key) -> {"fingerprint", "status", "body", "done"}
        self.idempotency: dict[tuple[str | None, str], Obj] = {}
        self.lock = threading.Lock()
        self.httpd = _Server((host, port), _Handler)
        self.httpd.fake = self
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.public_url = (public_url or self.url).rstrip("/")
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fakestripe-http", daemon=True)

    def start(self) -> FakeStripe:
        self.dispatcher.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.dispatcher.stop()

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.fault_rate = None
            self.requests.clear()
            self.idempotency.clear()
        self.store.reset()
        self.dispatcher.reset()
        self.store.save()

    def next_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.matches(method, path):
                    return self.faults.pop(i)
            if self.fault_rate is not None:
                return self.fault_rate.draw(method, path)
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeStripe


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeStripe/1.0"

    # -- plumbing -------------------------------------------------------------------------

    @property
    def fake(self) -> FakeStripe:
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:
        if self.fake.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault): the answer is lost, as on a real network

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body, indent=2).encode(), "application/json", headers)

    def _html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8")

    def _redirect(self, url: str) -> None:
        self._send(303, b"", "text/plain", {"Location": url})

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path
        try:
            if path.startswith("/v1/"):
                self._api(method, path, split.query)
            elif path.startswith("/_control/"):
                self._control(method, path, split.query)
            elif path.startswith(("/c/", "/setup/", "/express/", "/dashboard/")):
                self._page(method, path, split.query)
            elif path == "/" and method == "GET":
                self._json(200, {"fake_stripe": True, "api_version": API_VERSION})
            else:
                self._json(404, {"error": {"type": "invalid_request_error", "message": f"Unknown path {path}"}})
        except Exception as exc:  # a bug in the fake must answer, not hang the client
            self._json(500, {"error": {"type": "api_error", "message": f"Fake Stripe failed: {exc!r}"}})
            raise

    # -- /v1 ------------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: str) -> None:
        fake = self.fake
        raw = self._body() if method == "POST" else query
        request_id = "req_" + secrets.token_hex(7)
        key = self.headers.get("Idempotency-Key")
        account = self.headers.get("Stripe-Account") or None
        headers = {"Request-Id": request_id, "Stripe-Version": self.headers.get("Stripe-Version") or API_VERSION}
        if key:
            headers["Idempotency-Key"] = key
        entry: Obj = {
            "method": method,
            "path": path,
            "idempotency_key": key,
            "stripe_account": account,
            # The account the request acted on: the header's, or a standalone account's own key's.
            "account": account,
            "stripe_version": self.headers.get("Stripe-Version"),
            # Which key made the request, redacted as Stripe's request logs show it.
            "api_key": None,
            "request_id": request_id,
            "params": None,
            "status": None,
            "replayed": False,
            "fault": None,
            "time": time.time(),
        }
        with fake.lock:
            fake.requests.append(entry)
        own_account: str | None = None
        try:
            entry["params"] = params = parse(raw)
            auth = self.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else ""
            entry["api_key"] = redact_key(token) if token else None
            if not token:
                raise authentication(
                    "You did not provide an API key. You need to provide your API key in the Authorization header, "
                    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                )
            if not token.startswith(("sk_test_", "rk_test_")):
                raise authentication(f"Invalid API Key provided: {token[:8]}****. The fake takes test keys only.")
            own_account = fake.store.key_account(token)
            if own_account is not None:
                if account is not None and account != own_account:
                    raise permission(
                        "The provided key does not have access to account '"
                        + account
                        + "' (or that account does not exist). Application access may have been revoked."
                    )
                account = entry["account"] = own_account
        except ApiError as error:
            entry["status"] = error.status
            self._json(error.status, error.envelope(), headers)
            return

        fault = fake.next_fault(method, path)
        if fault:
            entry["fault"] = fault.kind
            if fault.kind in ("500", "429"):
                injected = api_error() if fault.kind == "500" else rate_limit()
                extra = dict(headers)
                if fault.should_retry is not None:
                    extra["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
                entry["status"] = injected.status
                self._json(injected.status, injected.envelope(), extra)
                return
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "timeout" and not fault.perform:
                time.sleep(fault.delay)
                entry["status"] = "dropped"
                self.close_connection = True
                return

        call = Call(
            method,
            path,
            params,
            account=account,
            request_id=request_id,
            idempotency_key=key,
            own_key=own_account is not None,
        )
        status, body, replayed = self._run_idempotent(call, key)
        entry["status"] = status
        entry["replayed"] = replayed
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if fault and fault.kind == "timeout":
            # Performed, but the answer comes too late for the client: "timed out but charged".
            time.sleep(fault.delay)
        self._json(status, body, headers)

    def _run_idempotent(self, call: Call, key: str | None) -> tuple[int, Obj, bool]:
        fake = self.fake
        if call.method != "POST" or not key:
            status, body, _saved = self._run(call)
            return status, body, False
        scope = (call.account, key)
        fingerprint = json.dumps([call.path, call.params], sort_keys=True)
        with fake.lock:
            previous = fake.idempotency.get(scope)
            if previous is None:
                fake.idempotency[scope] = {"fingerprint": fingerprint, "done": False}
        if previous is not None:
            if previous["fingerprint"] != fingerprint:
                error = idempotency_mismatch(key)
                return error.status, error.envelope(), False
            if not previous["done"]:
                error = idempotency_in_progress()
                return error.status, error.envelope(), False
            return previous["status"], previous["body"], True
        try:
            status, body, saved = self._run(call)
        except Exception:
            # A crash in the fake must not leave the key "in progress" (409) for ever.
            with fake.lock:
                del fake.idempotency[scope]
            raise
        with fake.lock:
            if saved:
                fake.idempotency[scope].update(status=status, body=body, done=True)
            else:
                del fake.idempotency[scope]
        return status, body, False

    def _run(self, call: Call) -> tuple[int, Obj, bool]:
        try:
            return 200, self.fake.api.handle(call), True
        except ApiError as error:
            return error.status, error.envelope(), error.saved

    # -- hosted pages ---------------------------------------------------------------------

    def _page(self, method: str, path: str, query: str) -> None:
        parts = path.strip("/").split("/")
        form = {k: v[0] for k, v in parse_qs(self._body() if method == "POST" else query).items()}
        if parts[:2] == ["c", "pay"] and len(parts) == 3:
            self._checkout(method, parts[2], form)
        elif parts[:2] == ["c", "authenticate"] and len(parts) == 3:
            self._authenticate(method, parts[2], form)
        elif parts[:2] == ["setup", "s"] and len(parts) == 4:
            self._onboarding(method, parts[2], parts[3], form)
        elif parts[0] == "express" and len(parts) == 3:
            self._dashboard(parts[1], parts[2])
        elif parts[0] == "dashboard" and parts[2:4] == ["test", "payments"] and len(parts) == 5:
            self._payment_page(parts[1], parts[4])
        else:
            self._html(404, pages.done("Not found", "There is no page here."))

    def _business(self, account: str | None) -> str:
        acct = self.fake.store.objects.get(account or "")
        if acct:
            return str(
                acct["business_profile"].get("name")
                or acct["settings"]["dashboard"].get("display_name")
                or acct.get("email")
                or "this business"
            )
        return "this business"

    def _checkout(self, method: str, session_id: str, form: dict[str, str]) -> None:
        api, store = self.fake.api, self.fake.store
        with store.lock:
            api.expire_due_sessions()
            cs = store.objects.get(session_id)
            if cs is None or not session_id.startswith("cs_"):
                self._html(404, pages.done("Not found", "This checkout session does not exist."))
                return
            business = self._business(store.owner[session_id])
            if cs["status"] != "open":
                self._html(200 if method == "GET" else 409, pages.closed(cs, business=business))
                return
            email = cs["customer_email"]
            if cs["customer"] and store.objects.get(cs["customer"]):
                email = store.objects[cs["customer"]]["email"]
        if method == "GET":
            error = pages_error(form.get("error"))
            self._html(200, pages.checkout(cs, business=business, email=email, error=error))
            return
        month, _, year = form.get("exp", "").replace(" ", "").partition("/")
        try:
            result = api.session_pay(
                session_id,
                number=form.get("cardnumber", ""),
                exp_month=int(month or 0),
                exp_year=int(year or 0),
                cvc=form.get("cvc", ""),
                email=form.get("email") or email,
                name=form.get("name") or None,
            )
        except ValueError:
            self._html(400, pages.checkout(cs, business=business, email=email, error="Your card's expiry is invalid."))
            return
        except ApiError as error:
            if cs["status"] != "open":
                self._html(409, pages.closed(cs, business=business))
            else:
                self._html(402, pages.checkout(cs, business=business, email=email, error=error.body["message"]))
            return
        if result["outcome"] == "declined":
            self._html(402, pages.checkout(cs, business=business, email=email, error=result["message"]))
        elif result["outcome"] == "authenticate":
            self._redirect(f"/c/authenticate/{result['intent']}")
        else:
            self._after_session(cs)

    def _after_session(self, cs: Obj) -> None:
        if cs.get("success_url"):
            self._redirect(cs["success_url"].replace("{CHECKOUT_SESSION_ID}", cs["id"]))
        else:
            self._html(200, pages.done("Thank you", "Your payment is complete."))

    def _authenticate(self, method: str, intent_id: str, form: dict[str, str]) -> None:
        store = self.fake.store
        intent = store.objects.get(intent_id)
        if intent is None or intent.get("object") not in ("payment_intent", "setup_intent"):
            self._html(404, pages.done("Not found", "There is nothing to authenticate here."))
            return
        if method == "GET":
            if intent["status"] != "requires_action":
                self._html(200, pages.done("Authenticate your card", "Nothing is waiting for authentication."))
            else:
                self._html(200, pages.authenticate(intent))
            return
        try:
            result = self.fake.api.authenticate(intent_id, success=form.get("action") == "complete")
        except ApiError as error:
            self._html(409, pages.done("Authenticate your card", error.body["message"]))
            return
        if result["session"]:
            cs = store.objects[result["session"]]
            if result["outcome"] == "complete":
                self._after_session(cs)
            else:
                self._redirect(f"/c/pay/{cs['id']}?error=authentication_failed")
        elif result["return_url"]:
            prefix = "payment_intent" if intent["object"] == "payment_intent" else "setup_intent"
            query = urlencode(
                {
                    prefix: intent_id,
                    f"{prefix}_client_secret": intent["client_secret"],
                    "redirect_status": "succeeded" if result["outcome"] == "complete" else "failed",
                }
            )
            sep = "&" if "?" in result["return_url"] else "?"
            self._redirect(f"{result['return_url']}{sep}{query}")
        else:
            message = "Authentication complete." if result["outcome"] == "complete" else "Authentication failed."
            self._html(200, pages.done("Authenticate your card", message))

    def _onboarding(self, method: str, account_id: str, token: str, form: dict[str, str]) -> None:
        store = self.fake.store
        with store.lock:
            link = store.links.get(token)
            if not link or link.get("kind") != "onboarding" or link["account"] != account_id:
                self._html(404, pages.done("Link not valid", "This onboarding link is not valid."))
                return
            # Stripe's account links are single use and short lived: a stale one goes to refresh_url.
            if link["used"] or link["expires_at"] < store.now() or account_id not in store.objects:
                self._redirect(link["refresh_url"])
                return
            acct = store.objects[account_id]
            if method == "GET":
                self._html(200, pages.onboarding(acct, token))
                return
            outcome = form.get("outcome", "complete")
            link["used"] = True
            store.save()
        if outcome in ("complete", "pending", "action_required"):
            self.fake.api.account_onboard(account_id, outcome)
        self._redirect(link["return_url"])

    def _dashboard(self, account_id: str, token: str) -> None:
        store = self.fake.store
        with store.lock:
            link = store.links.get(token)
            if not link or link.get("kind") != "dashboard" or link["account"] != account_id:
                self._html(404, pages.done("Link not valid", "This dashboard link is not valid."))
                return
            acct = store.objects[account_id]
            charges = store.all("ch", account_id)[:50]
            payouts = store.all("po", account_id)[:20]
            html = pages.dashboard(acct, [store.render(c) for c in charges], [store.render(p) for p in payouts])
        self._html(200, html)

    def _payment_page(self, account_id: str, intent_id: str) -> None:
        """The Dashboard's page of one payment, as the platform sees a connected account's
        (the app links each online payment here; the real one needs a Stripe login)."""
        store = self.fake.store
        with store.lock:
            pi = store.objects.get(intent_id)
            if pi is None or not intent_id.startswith("pi_") or store.owner.get(intent_id) != account_id:
                self._html(404, pages.done("Not found", "There is no such payment on this account."))
                return
            ch = store.objects.get(pi["latest_charge"] or "")
            txn = store.objects.get(ch["balance_transaction"] or "") if ch else None
            html = pages.payment(account_id, store.render(pi), store.render(ch) if ch else None, txn)
        self._html(200, html)

    # -- /_control ------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: str) -> None:
        raw = self._body() if method == "POST" else ""
        try:
            body: Obj = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            self._json(400, {"error": "body must be JSON"})
            return
        try:
            result = _control(self.fake, method, path.removeprefix("/_control/").strip("/"), body, query)
        except ApiError as error:
            self._json(error.status, error.envelope())
            return
        except (KeyError, ValueError, TypeError) as exc:
            self._json(400, {"error": {"type": "invalid_request_error", "message": repr(exc)}})
            return
        if result is None:
            self._json(404, {"error": {"type": "invalid_request_error", "message": f"Unknown control {path}"}})
        else:
            self._json(200, result)


def pages_error(code: str | None) -> str | None:
    if code == "authentication_failed":
        from .cards import AUTHENTICATION_FAILED_MESSAGE

        return AUTHENTICATION_FAILED_MESSAGE
    return None


def redact_key(key: str) -> str:
    """An API key as Stripe's request logs show it: its prefix and last four characters."""
    prefix = key[:8] if key[:8] in ("sk_test_", "sk_live_", "rk_test_", "rk_live_") else ""
    return f"{prefix}...{key[-4:]}"


def _control(fake: FakeStripe, method: str, route: str, body: Obj, query: str) -> Any:
    """The control API: one JSON call per test need. Returns None for an unknown route."""
    api, store, dispatcher = fake.api, fake.store, fake.dispatcher
    parts = route.split("/")
    if (method, route) == ("POST", "reset"):
        fake.reset()
        return {"reset": True}
    if route == "requests":
        if method == "DELETE":
            with fake.lock:
                fake.requests.clear()
            return {"cleared": True}
        with fake.lock:
            return {"data": list(fake.requests)}
    if route == "faults":
        if method == "POST":
            fault = Fault(
                kind=str(body["kind"]),
                delay=float(body.get("delay", 0)),
                perform=bool(body.get("perform", False)),
                method=body.get("method"),
                path=body.get("path"),
                should_retry=body.get("should_retry"),
            )
            if fault.kind not in ("500", "429", "timeout", "slow"):
                raise ValueError(f"unknown fault kind {fault.kind}")
            with fake.lock:
                fake.faults.extend(Fault(**vars(fault)) for _ in range(int(body.get("count", 1))))
        elif method == "DELETE":
            with fake.lock:
                fake.faults.clear()
                fake.fault_rate = None
        with fake.lock:
            return {"data": [vars(f) for f in fake.faults]}
    if route == "faults/rate":
        if method == "POST":
            kinds = tuple(str(k) for k in body.get("kinds") or ())
            rate = float(body.get("rate", 0))
            if not kinds or any(k not in RATE_KINDS for k in kinds):
                raise ValueError(f"fault kinds must be some of {', '.join(RATE_KINDS)}")
            if not 0 <= rate <= 1:
                raise ValueError("rate must be between 0 and 1")
            with fake.lock:
                fake.fault_rate = FaultRate(
                    kinds=kinds,
                    rate=rate,
                    seed=int(body.get("seed", 0)),
                    delay=float(body.get("delay", 0)),
                    method=body.get("method"),
                    path=body.get("path"),
                )
        elif method == "DELETE":
            with fake.lock:
                fake.fault_rate = None
        with fake.lock:
            return {"rate": fake.fault_rate.describe() if fake.fault_rate else None}
    if (method, route) == ("POST", "clock"):
        with store.lock:
            store.clock_offset += int(body.get("advance", 0))
            api.expire_due_sessions()
            store.save()
            return {"now": store.now()}
    if method == "POST" and route == "accounts":
        return _control_account(fake, body)
    if method == "POST" and route == "standalone_accounts":
        return _control_standalone_account(fake, body)
    if method == "POST" and route == "api_keys/revoke":
        with store.lock:
            store.api_keys[str(body["key"])]["revoked"] = True
            store.save()
        return {"revoked": True}
    if method == "POST" and parts[0] == "accounts" and len(parts) == 3 and parts[2] == "onboarding":
        return store.render(api.account_onboard(parts[1], str(body.get("state", "complete"))))
    if method == "POST" and route == "disputes":
        dp = api.dispute_open(str(body["charge"]), amount=body.get("amount"), reason=body.get("reason", "fraudulent"))
        return store.render(dp)
    if method == "POST" and parts[0] == "disputes" and len(parts) == 3 and parts[2] == "close":
        return store.render(api.dispute_close(parts[1], str(body["outcome"])))
    if method == "POST" and route == "payouts":
        return store.render(api.payout_make(body.get("account"), body.get("currency")))
    if method == "POST" and parts[:2] == ["checkout", "sessions"] and len(parts) == 4 and parts[3] == "pay":
        card = str(body.get("card", "4242424242424242"))
        return api.session_pay(
            parts[2],
            number=card,
            exp_month=int(body.get("exp_month", 12)),
            exp_year=int(body.get("exp_year", api.store_year() + 3)),
            cvc=str(body.get("cvc", "123")),
            email=body.get("email"),
            name=body.get("name"),
        )
    if method == "POST" and parts[0] == "intents" and len(parts) == 3 and parts[2] == "authenticate":
        return api.authenticate(parts[1], success=bool(body.get("success", True)))
    if method == "POST" and parts[0] == "events" and len(parts) == 3 and parts[2] == "resend":
        with store.lock:
            event = store.objects.get(parts[1])
        if event is None or event.get("object") != "event":
            return None
        with store.lock:
            # The stored event as it is (a standalone account's keeps whose it is, for its endpoints).
            dispatcher.enqueue(copy.deepcopy(event))
        return {"resent": parts[1]}
    if parts[0] == "webhooks":
        return _control_webhooks(fake, method, parts[1:], body)
    if method == "GET" and route == "state":
        with store.lock:
            return {id_: store.render(obj) for id_, obj in store.objects.items()}
    return None


def _control_account(fake: FakeStripe, body: Obj) -> Obj:
    """Create a connected account, with a chosen id if given (the demo data seeds a fixed one)."""
    api, store = fake.api, fake.store
    with store.lock:
        wanted = body.get("id")
        if wanted and wanted in store.objects:
            acct = store.objects[wanted]
        else:
            call = Call(
                "POST",
                "/v1/accounts",
                {
                    "type": "express",
                    "country": body.get("country", "US"),
                    **({"email": body["email"]} if body.get("email") else {}),
                },
            )
            acct = store.objects[api.account_create(call)["id"]]
            if wanted:
                if not str(wanted).startswith("acct_"):
                    raise ValueError("an account id starts with acct_")
                del store.objects[acct["id"]]
                store.owner.pop(acct["id"])
                store.seq.pop(acct["id"])
                acct["id"] = wanted
                acct["external_accounts"]["url"] = f"/v1/accounts/{wanted}/external_accounts"
                store.add(acct, None)
        if body.get("business_name"):
            acct["business_profile"]["name"] = body["business_name"]
        store.save()
    if body.get("onboarding"):
        acct = api.account_onboard(acct["id"], str(body["onboarding"]))
    return store.render(acct)


def _control_standalone_account(fake: FakeStripe, body: Obj) -> Obj:
    """A standalone (standard) Stripe account with its own secret and publishable keys, as a
    self-hosted practice has: onboarded, taking charges, connected to no platform."""
    store = fake.store
    with store.lock:
        country = str(body.get("country", "US")).upper()
        currency = str(body.get("default_currency") or {"NZ": "nzd", "AU": "aud", "GB": "gbp"}.get(country, "usd"))
        acct = shapes.account(
            store.new_id("acct", 16), store.now(), country=country, email=body.get("email"), currency=currency
        )
        shapes.account_onboarded(acct, "complete", store.now())
        acct["type"] = "standard"
        acct["controller"] = {"is_controller": False, "type": "account"}
        acct["_standalone"] = True
        if body.get("business_name"):
            acct["business_profile"]["name"] = body["business_name"]
        store.add(acct, None)
        tail = acct["id"][5:]
        secret_key = f"sk_test_{tail}{secrets.token_hex(12)}"
        publishable_key = f"pk_test_{tail}{secrets.token_hex(12)}"
        store.api_keys[secret_key] = {"account": acct["id"], "publishable": publishable_key, "revoked": False}
        store.save()
        return {"account": store.render(acct), "secret_key": secret_key, "publishable_key": publishable_key}


def _control_webhooks(fake: FakeStripe, method: str, parts: list[str], body: Obj) -> Any:
    dispatcher = fake.dispatcher
    route = "/".join(parts)
    if route == "" and method == "POST":
        dispatcher.configure(duplicate=body.get("duplicate"), hold=body.get("hold"))
    if route == "":
        return {
            "endpoints": [e.public() for e in dispatcher.endpoints],
            "duplicate": dispatcher.duplicate,
            "hold": dispatcher.hold,
        }
    if route == "endpoints" and method == "POST":
        endpoint = Endpoint(
            url=str(body["url"]),
            secret=str(body["secret"]),
            connect=bool(body.get("connect", False)),
            enabled_events=list(body.get("enabled_events", ["*"])),
            account=body.get("account") or None,
        )
        dispatcher.endpoints.append(endpoint)
        return endpoint.public()
    if route == "endpoints" and method == "DELETE":
        dispatcher.endpoints.clear()
        return {"endpoints": []}
    if route == "flush" and method == "POST":
        return {
            "released": dispatcher.flush(order=body.get("order", "in_order"), duplicate=int(body.get("duplicate", 1)))
        }
    if route == "deliveries" and method == "GET":
        with dispatcher._cond:
            return {"data": list(dispatcher.deliveries)}
    if route == "wait" and method == "POST":
        return {"idle": dispatcher.wait_idle(float(body.get("timeout", 10)))}
    return None


def checkout_url_for(fake: FakeStripe, session_id: str) -> str:
    return f"{fake.public_url}/c/pay/{quote(session_id)}"


__all__ = ["FakeStripe", "Fault", "FaultRate", "HTTPStatus"]
