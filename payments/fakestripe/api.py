"""Stripe's /v1 endpoints, as far as Practica uses them, and the money movements behind them.

Each handler takes a ``Call`` (the parsed request) and returns the JSON body. State changes run
under the store's lock. Card behaviour (decline, authentication) comes from ``cards``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import cards, shapes
from .errors import ApiError, card_error, invalid_request, not_found_url, resource_missing
from .formdata import as_bool, as_int, as_metadata, as_str, check_known
from .store import Obj, Store, expand_list

STRIPE_FEE_PERCENT = 29  # tenths of a percent: 2.9% + 30 minor units, Stripe's US card price
STRIPE_FEE_FIXED = 30
DISPUTE_FEE = 1500
MINIMUM_CHARGE = 50


@dataclass
class Call:
    method: str
    path: str
    params: Obj
    account: str | None = None
    request_id: str | None = None
    idempotency_key: str | None = None
    match: dict[str, str] = field(default_factory=dict)
    # Made with a standalone account's own key (``account`` is that account, no header sent).
    own_key: bool = False

    @property
    def expand(self) -> list[str]:
        return expand_list(self.params)


Handler = Callable[[Call], Obj]


def _stripe_fee(amount: int) -> int:
    return (amount * STRIPE_FEE_PERCENT + 500) // 1000 + STRIPE_FEE_FIXED


def _currency(params: Obj, name: str = "currency", *, required: bool = True) -> str | None:
    value = as_str(params, name, required=required)
    if value is None:
        return None
    if not re.fullmatch(r"[a-zA-Z]{3}", value):
        raise invalid_request(f"Invalid currency: {value}.", param=name)
    return value.lower()


def _merge_metadata(obj: Obj, params: Obj, name: str = "metadata") -> None:
    metadata = as_metadata(params, name)
    if metadata is None:
        return
    if params.get(name) == "":
        obj["metadata"] = {}
        return
    for key, value in metadata.items():
        if value == "":
            obj["metadata"].pop(key, None)
        else:
            obj["metadata"][key] = value


class Api:
    def __init__(self, store: Store, base_url: Callable[[], str]) -> None:
        self.store = store
        self.base_url = base_url
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        r = self._route
        r("POST", "/v1/accounts", self.account_create)
        r("GET", "/v1/accounts", self.account_list)
        r("GET", "/v1/account", self.account_current)
        r("GET", "/v1/accounts/(?P<id>[^/]+)", self.account_retrieve)
        r("POST", "/v1/accounts/(?P<id>[^/]+)", self.account_update)
        r("DELETE", "/v1/accounts/(?P<id>[^/]+)", self.account_delete)
        r("POST", "/v1/accounts/(?P<id>[^/]+)/login_links", self.login_link_create)
        r("POST", "/v1/account_links", self.account_link_create)
        r("POST", "/v1/customers", self.customer_create)
        r("GET", "/v1/customers", self.customer_list)
        r("GET", "/v1/customers/(?P<id>[^/]+)", self.customer_retrieve)
        r("POST", "/v1/customers/(?P<id>[^/]+)", self.customer_update)
        r("DELETE", "/v1/customers/(?P<id>[^/]+)", self.customer_delete)
        r("GET", "/v1/customers/(?P<id>[^/]+)/payment_methods", self.customer_payment_methods)
        r("POST", "/v1/checkout/sessions", self.session_create)
        r("GET", "/v1/checkout/sessions", self.session_list)
        r("GET", "/v1/checkout/sessions/(?P<id>[^/]+)", self.session_retrieve)
        r("POST", "/v1/checkout/sessions/(?P<id>[^/]+)/expire", self.session_expire)
        r("GET", "/v1/checkout/sessions/(?P<id>[^/]+)/line_items", self.session_line_items)
        r("POST", "/v1/payment_intents", self.payment_intent_create)
        r("GET", "/v1/payment_intents", self.payment_intent_list)
        r("GET", "/v1/payment_intents/(?P<id>[^/]+)", self.payment_intent_retrieve)
        r("POST", "/v1/payment_intents/(?P<id>[^/]+)", self.payment_intent_update)
        r("POST", "/v1/payment_intents/(?P<id>[^/]+)/confirm", self.payment_intent_confirm)
        r("POST", "/v1/payment_intents/(?P<id>[^/]+)/cancel", self.payment_intent_cancel)
        r("POST", "/v1/setup_intents", self.setup_intent_create)
        r("GET", "/v1/setup_intents", self.setup_intent_list)
        r("GET", "/v1/setup_intents/(?P<id>[^/]+)", self.setup_intent_retrieve)
        r("POST", "/v1/setup_intents/(?P<id>[^/]+)/confirm", self.setup_intent_confirm)
        r("POST", "/v1/setup_intents/(?P<id>[^/]+)/cancel", self.setup_intent_cancel)
        r("GET", "/v1/payment_methods", self.payment_method_list)
        r("GET", "/v1/payment_methods/(?P<id>[^/]+)", self.payment_method_retrieve)
        r("POST", "/v1/payment_methods/(?P<id>[^/]+)", self.payment_method_update)
        r("POST", "/v1/payment_methods/(?P<id>[^/]+)/attach", self.payment_method_attach)
        r("POST", "/v1/payment_methods/(?P<id>[^/]+)/detach", self.payment_method_detach)
        r("GET", "/v1/charges", self.charge_list)
        r("GET", "/v1/charges/(?P<id>[^/]+)", self.charge_retrieve)
        r("POST", "/v1/refunds", self.refund_create)
        r("GET", "/v1/refunds", self.refund_list)
        r("GET", "/v1/refunds/(?P<id>[^/]+)", self.refund_retrieve)
        r("GET", "/v1/disputes", self.dispute_list)
        r("GET", "/v1/disputes/(?P<id>[^/]+)", self.dispute_retrieve)
        r("POST", "/v1/disputes/(?P<id>[^/]+)", self.dispute_update)
        r("POST", "/v1/disputes/(?P<id>[^/]+)/close", self.dispute_accept)
        r("GET", "/v1/balance", self.balance_retrieve)
        r("GET", "/v1/balance_transactions", self.balance_transaction_list)
        r("GET", "/v1/balance_transactions/(?P<id>[^/]+)", self.balance_transaction_retrieve)
        r("GET", "/v1/payouts", self.payout_list)
        r("GET", "/v1/payouts/(?P<id>[^/]+)", self.payout_retrieve)
        r("GET", "/v1/events", self.event_list)
        r("GET", "/v1/events/(?P<id>[^/]+)", self.event_retrieve)

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler))

    def handle(self, call: Call) -> Obj:
        for method, pattern, handler in self.routes:
            m = pattern.match(call.path)
            if m and method == call.method:
                call.match = m.groupdict()
                with self.store.lock:
                    self.expire_due_sessions()
                    result = handler(call)
                    self.store.save()
                    return result
        raise not_found_url(call.method, call.path)

    # -- helpers --------------------------------------------------------------------------

    def _emit(self, type_: str, obj: Obj, account: str | None, call: Call | None = None, **kw: Any) -> None:
        self.store.emit(
            type_,
            obj,
            account,
            request_id=call.request_id if call else None,
            idempotency_key=call.idempotency_key if call else None,
            **kw,
        )

    def _render(self, obj: Obj, call: Call) -> Obj:
        return self.store.render(obj, call.expand, call.account)

    def _list(self, prefix: str, call: Call, url: str, where: Callable[[Obj], bool] | None = None) -> Obj:
        return self.store.page(self.store.all(prefix, call.account, where), call.params, url, call.account)

    def _get(self, call: Call, kind: str, id_: str | None = None, param: str = "id") -> Obj:
        return self.store.get(id_ or call.match["id"], call.account, kind=kind, param=param)

    # -- accounts -------------------------------------------------------------------------

    def account_create(self, call: Call) -> Obj:
        p = call.params
        check_known(
            p,
            {
                "type",
                "country",
                "email",
                "controller",
                "capabilities",
                "business_type",
                "business_profile",
                "metadata",
                "default_currency",
                "settings",
                "tos_acceptance",
                "individual",
                "company",
            },
        )
        if call.account:
            raise invalid_request("Connected accounts cannot create other accounts.")
        kind = as_str(p, "type")
        controller = p.get("controller")
        if kind is None and not isinstance(controller, dict):
            raise invalid_request(
                "You must provide either `type` or `controller` when creating an account.", param="type"
            )
        if kind not in (None, "express"):
            raise invalid_request("The fake Stripe implements Express accounts only.", param="type")
        if isinstance(controller, dict):
            dashboard = controller.get("stripe_dashboard", {})
            if isinstance(dashboard, dict) and dashboard.get("type", "express") != "express":
                raise invalid_request("The fake Stripe implements Express accounts only.", param="controller")
        country = (as_str(p, "country") or "US").upper()
        currency = _currency(p, "default_currency", required=False) or {
            "US": "usd",
            "NZ": "nzd",
            "AU": "aud",
            "GB": "gbp",
            "CA": "cad",
        }.get(country, "usd")
        acct = shapes.account(
            self.store.new_id("acct", 16),
            self.store.now(),
            country=country,
            email=as_str(p, "email"),
            currency=currency,
        )
        _merge_metadata(acct, p)
        if isinstance(p.get("business_profile"), dict):
            acct["business_profile"].update(p["business_profile"])
        acct["business_type"] = as_str(p, "business_type")
        self.store.add(acct, None)
        return self._render(acct, call)

    def account_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "acct"), call)

    def account_current(self, call: Call) -> Obj:
        if call.account is None:
            raise invalid_request("The fake Stripe has no platform account object; pass Stripe-Account.")
        return self._render(self._get(call, "acct", call.account), call)

    def account_list(self, call: Call) -> Obj:
        return self._list("acct", call, "/v1/accounts")

    def account_update(self, call: Call) -> Obj:
        acct = self._get(call, "acct")
        p = call.params
        check_known(p, {"email", "metadata", "business_profile", "settings", "default_currency", "capabilities"})
        if "email" in p:
            acct["email"] = as_str(p, "email")
        if isinstance(p.get("business_profile"), dict):
            acct["business_profile"].update(p["business_profile"])
        _merge_metadata(acct, p)
        self._emit("account.updated", acct, acct["id"], call)
        return self._render(acct, call)

    def account_delete(self, call: Call) -> Obj:
        acct = self._get(call, "acct")
        acct["_deleted"] = True
        del self.store.objects[acct["id"]]
        return shapes.deleted(acct["id"], "account")

    def account_link_create(self, call: Call) -> Obj:
        p = call.params
        check_known(p, {"account", "refresh_url", "return_url", "type", "collect", "collection_options"})
        account_id = as_str(p, "account", required=True)
        assert account_id is not None
        acct = self.store.get(account_id, call.account, param="account", kind="acct")
        kind = as_str(p, "type", required=True)
        if kind not in ("account_onboarding", "account_update"):
            raise invalid_request("Invalid type: must be one of account_onboarding or account_update", param="type")
        return_url = as_str(p, "return_url", required=True)
        refresh_url = as_str(p, "refresh_url", required=True)
        token = self.store.new_id("link", 16)[5:]
        now = self.store.now()
        url = f"{self.base_url()}/setup/s/{acct['id']}/{token}"
        self.store.links[token] = {
            "kind": "onboarding",
            "account": acct["id"],
            "return_url": return_url,
            "refresh_url": refresh_url,
            "expires_at": now + 300,
            "used": False,
        }
        return shapes.account_link(url, now, now + 300)

    def login_link_create(self, call: Call) -> Obj:
        acct = self._get(call, "acct")
        if not acct["details_submitted"]:
            raise invalid_request(
                "Cannot create a login link for an account that has not completed onboarding.", param="account"
            )
        token = self.store.new_id("link", 16)[5:]
        self.store.links[token] = {"kind": "dashboard", "account": acct["id"]}
        return shapes.login_link(f"{self.base_url()}/express/{acct['id']}/{token}", self.store.now())

    def account_onboard(self, account_id: str, state: str) -> Obj:
        """Finish (or leave pending) an account's onboarding, as the hosted pages do."""
        with self.store.lock:
            acct = self.store.get(account_id, None, kind="acct")
            before = {k: acct[k] for k in ("charges_enabled", "payouts_enabled", "details_submitted", "requirements")}
            shapes.account_onboarded(acct, state, self.store.now())
            previous = {k: v for k, v in before.items() if acct[k] != v}
            self._emit("account.updated", acct, acct["id"], previous=previous)
            self.store.save()
            return acct

    # -- customers ------------------------------------------------------------------------

    _CUSTOMER_FIELDS = ("email", "name", "phone", "description")

    def customer_create(self, call: Call) -> Obj:
        p = call.params
        check_known(
            p,
            {
                *self._CUSTOMER_FIELDS,
                "metadata",
                "payment_method",
                "invoice_settings",
                "address",
                "preferred_locales",
                "shipping",
                "tax_exempt",
            },
        )
        cus = shapes.customer(self.store.new_id("cus", 14), self.store.now())
        self._customer_fields(cus, p)
        self.store.add(cus, call.account)
        pm_id = as_str(p, "payment_method")
        if pm_id:
            pm = self._resolve_payment_method(pm_id, call, param="payment_method")
            self._attach(pm, cus, call)
        self._default_pm(cus, p, call)
        self._emit("customer.created", cus, call.account, call)
        return self._render(cus, call)

    def _customer_fields(self, cus: Obj, p: Obj) -> None:
        for name in self._CUSTOMER_FIELDS:
            if name in p:
                cus[name] = as_str(p, name)
        if isinstance(p.get("address"), dict):
            cus["address"] = {**shapes._address(), **p["address"]}
        if isinstance(p.get("preferred_locales"), list):
            cus["preferred_locales"] = list(p["preferred_locales"])
        _merge_metadata(cus, p)

    def _default_pm(self, cus: Obj, p: Obj, call: Call) -> None:
        settings = p.get("invoice_settings")
        if isinstance(settings, dict) and "default_payment_method" in settings:
            pm_id = settings["default_payment_method"] or None
            if pm_id:
                pm = self.store.get(pm_id, call.account, param="invoice_settings[default_payment_method]", kind="pm")
                if pm["customer"] != cus["id"]:
                    raise invalid_request(
                        f"The customer does not have a payment method with the ID {pm_id}. The payment method must "
                        "be attached to the customer.",
                        param="invoice_settings[default_payment_method]",
                    )
            cus["invoice_settings"]["default_payment_method"] = pm_id

    def customer_retrieve(self, call: Call) -> Obj:
        cus = self._get(call, "cus")
        if cus.get("_deleted"):
            return shapes.deleted(cus["id"], "customer")
        return self._render(cus, call)

    def customer_update(self, call: Call) -> Obj:
        cus = self._get(call, "cus")
        check_known(
            call.params,
            {
                *self._CUSTOMER_FIELDS,
                "metadata",
                "invoice_settings",
                "address",
                "preferred_locales",
                "shipping",
                "tax_exempt",
            },
        )
        before = self.store.render(cus)
        self._customer_fields(cus, call.params)
        self._default_pm(cus, call.params, call)
        previous = {k: v for k, v in before.items() if cus.get(k) != v}
        self._emit("customer.updated", cus, call.account, call, previous=previous)
        return self._render(cus, call)

    def customer_delete(self, call: Call) -> Obj:
        cus = self._get(call, "cus")
        cus["_deleted"] = True
        self._emit("customer.deleted", cus, call.account, call)
        return shapes.deleted(cus["id"], "customer")

    def customer_list(self, call: Call) -> Obj:
        email = as_str(call.params, "email")
        return self._list(
            "cus", call, "/v1/customers", lambda c: not c.get("_deleted") and (email is None or c["email"] == email)
        )

    def customer_payment_methods(self, call: Call) -> Obj:
        cus = self._get(call, "cus")
        return self._list(
            "pm", call, f"/v1/customers/{cus['id']}/payment_methods", lambda pm: pm["customer"] == cus["id"]
        )

    # -- payment methods ------------------------------------------------------------------

    def payment_method_from_card(
        self,
        account: str | None,
        number: str,
        exp_month: int,
        exp_year: int,
        *,
        name: str | None,
        email: str | None,
    ) -> Obj:
        card = cards.card_for(number)
        assert card is not None
        pm = shapes.payment_method(
            self.store.new_id("pm"),
            self.store.now(),
            brand=card.brand,
            last4=card.last4,
            exp_month=exp_month,
            exp_year=exp_year,
            funding=card.funding,
            country=card.country,
            fingerprint=card.fingerprint,
            name=name,
            email=email,
        )
        pm["_number"] = card.number
        pm["_setup"] = False
        return self.store.add(pm, account)

    def _resolve_payment_method(self, pm_id: str, call: Call, *, param: str) -> Obj:
        number = cards.TOKENS.get(pm_id)
        if number:
            return self.payment_method_from_card(call.account, number, 12, self.store_year() + 3, name=None, email=None)
        return self.store.get(pm_id, call.account, param=param, kind="pm")

    def store_year(self) -> int:
        import datetime

        return datetime.datetime.fromtimestamp(self.store.now(), tz=datetime.UTC).year

    def _attach(self, pm: Obj, cus: Obj, call: Call | None) -> None:
        if pm["customer"] == cus["id"]:
            return
        if pm["customer"]:
            raise invalid_request(
                "The payment method you provided has already been attached to a customer.", param="payment_method"
            )
        pm["customer"] = cus["id"]
        self._emit("payment_method.attached", pm, self.store.owner[pm["id"]], call)

    def payment_method_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "pm"), call)

    def payment_method_list(self, call: Call) -> Obj:
        customer = as_str(call.params, "customer")
        if customer:
            self.store.get(customer, call.account, param="customer", kind="cus")
        kind = as_str(call.params, "type")
        return self._list(
            "pm",
            call,
            "/v1/payment_methods",
            lambda pm: (customer is None or pm["customer"] == customer) and (kind is None or pm["type"] == kind),
        )

    def payment_method_update(self, call: Call) -> Obj:
        pm = self._get(call, "pm")
        check_known(call.params, {"metadata", "billing_details", "card", "allow_redisplay"})
        _merge_metadata(pm, call.params)
        if isinstance(call.params.get("billing_details"), dict):
            pm["billing_details"].update({k: v for k, v in call.params["billing_details"].items() if k != "address"})
        self._emit("payment_method.updated", pm, call.account, call)
        return self._render(pm, call)

    def payment_method_attach(self, call: Call) -> Obj:
        check_known(call.params, {"customer"})
        pm = self._resolve_payment_method(call.match["id"], call, param="payment_method")
        customer_id = as_str(call.params, "customer", required=True)
        assert customer_id is not None
        cus = self.store.get(customer_id, call.account, param="customer", kind="cus")
        card = cards.card_for(pm["_number"])
        if card and card.charge == "decline" and card.attach_declines:
            code, message = cards.DECLINE_MESSAGES[card.decline_code or "generic_decline"]
            raise card_error(message, code=code, decline_code=card.decline_code)
        self._attach(pm, cus, call)
        return self._render(pm, call)

    def payment_method_detach(self, call: Call) -> Obj:
        check_known(call.params, set())
        pm = self._get(call, "pm")
        if not pm["customer"]:
            raise invalid_request(
                "The payment method you provided is not attached to a customer so detachment is impossible.",
                param="payment_method",
            )
        previous = {"customer": pm["customer"]}
        cus = self.store.objects.get(pm["customer"])
        if cus and cus["invoice_settings"]["default_payment_method"] == pm["id"]:
            cus["invoice_settings"]["default_payment_method"] = None
        pm["customer"] = None
        pm["_setup"] = False
        self._emit("payment_method.detached", pm, call.account, call, previous=previous)
        return self._render(pm, call)

    # -- checkout -------------------------------------------------------------------------

    _SESSION_PARAMS = {
        "mode",
        "success_url",
        "cancel_url",
        "line_items",
        "customer",
        "customer_email",
        "customer_creation",
        "client_reference_id",
        "metadata",
        "expires_at",
        "payment_method_types",
        "payment_intent_data",
        "setup_intent_data",
        "currency",
        "locale",
        "submit_type",
        "ui_mode",
        "payment_method_collection",
        "billing_address_collection",
        "custom_text",
        "saved_payment_method_options",
        "payment_method_options",
    }

    def session_create(self, call: Call) -> Obj:
        p = call.params
        check_known(p, self._SESSION_PARAMS)
        mode = as_str(p, "mode", required=True)
        if mode not in ("payment", "setup"):
            raise invalid_request("The fake Stripe implements Checkout in payment and setup mode.", param="mode")
        now = self.store.now()
        cs = shapes.checkout_session(self.store.new_id("cs"), now)
        cs["mode"] = mode
        cs["success_url"] = as_str(p, "success_url")
        cs["cancel_url"] = as_str(p, "cancel_url")
        cs["client_reference_id"] = as_str(p, "client_reference_id")
        cs["locale"] = as_str(p, "locale")
        cs["submit_type"] = as_str(p, "submit_type")
        _merge_metadata(cs, p)
        ui_mode = as_str(p, "ui_mode") or "hosted"
        if ui_mode != "hosted":
            raise invalid_request("The fake Stripe implements hosted Checkout only.", param="ui_mode")
        customer_id = as_str(p, "customer")
        if customer_id and as_str(p, "customer_email"):
            raise invalid_request(
                "You may only specify one of these parameters: customer, customer_email.", param="customer_email"
            )
        if customer_id:
            cus = self.store.get(customer_id, call.account, param="customer", kind="cus")
            if cus.get("_deleted"):
                raise resource_missing("customer", customer_id, "customer")
            cs["customer"] = customer_id
        cs["customer_email"] = as_str(p, "customer_email")
        creation = as_str(p, "customer_creation")
        if creation not in (None, "always", "if_required"):
            raise invalid_request("Invalid customer_creation", param="customer_creation")
        if creation and customer_id:
            raise invalid_request(
                "`customer_creation` can only be used when `customer` is not set.", param="customer_creation"
            )
        cs["customer_creation"] = creation or (None if customer_id else "if_required")
        expires_at = as_int(p, "expires_at")
        if expires_at is not None:
            if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
                raise invalid_request(
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session "
                    "creation.",
                    param="expires_at",
                )
            cs["expires_at"] = expires_at
        types = p.get("payment_method_types")
        if types is not None and types != ["card"]:
            raise invalid_request("The fake Stripe takes cards only.", param="payment_method_types")
        pid = p.get("payment_intent_data") or {}
        sid = p.get("setup_intent_data") or {}
        if mode == "payment":
            if sid:
                raise invalid_request("You can only pass setup_intent_data in setup mode.", param="setup_intent_data")
            self._session_line_items(cs, p)
            cs["_payment_intent_data"] = self._payment_intent_data(pid, call)
        else:
            if "line_items" in p:
                raise invalid_request("You cannot pass `line_items` in `setup` mode.", param="line_items")
            if pid:
                raise invalid_request(
                    "You can only pass payment_intent_data in payment mode.", param="payment_intent_data"
                )
            cs["currency"] = _currency(p, required=False)
            cs["payment_status"] = "no_payment_required"
            if not isinstance(sid, dict):
                raise invalid_request("Invalid hash", param="setup_intent_data")
            check_known(sid, {"metadata", "description", "on_behalf_of"})
            cs["_setup_intent_data"] = {
                "metadata": as_metadata(sid, "metadata") or {},
                "description": as_str(sid, "description"),
            }
        cs["url"] = f"{self.base_url()}/c/pay/{cs['id']}"
        self.store.add(cs, call.account)
        return self._render(cs, call)

    def _payment_intent_data(self, pid: Any, call: Call) -> Obj:
        if not isinstance(pid, dict):
            raise invalid_request("Invalid hash", param="payment_intent_data")
        check_known(
            pid,
            {
                "application_fee_amount",
                "metadata",
                "description",
                "setup_future_usage",
                "receipt_email",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "capture_method",
                "on_behalf_of",
                "transfer_data",
            },
        )
        fee = as_int(pid, "application_fee_amount", minimum=0)
        self._check_fee(fee, call, "payment_intent_data[application_fee_amount]")
        sfu = as_str(pid, "setup_future_usage")
        if sfu not in (None, "on_session", "off_session"):
            raise invalid_request("Invalid setup_future_usage", param="payment_intent_data[setup_future_usage]")
        if as_str(pid, "capture_method") not in (None, "automatic", "automatic_async"):
            raise invalid_request("The fake Stripe captures automatically only.", param="capture_method")
        return {
            "application_fee_amount": fee,
            "metadata": as_metadata(pid, "metadata") or {},
            "description": as_str(pid, "description"),
            "setup_future_usage": sfu,
            "receipt_email": as_str(pid, "receipt_email"),
            "statement_descriptor_suffix": as_str(pid, "statement_descriptor_suffix"),
        }

    def _check_fee(self, fee: int | None, call: Call, param: str) -> None:
        # An application fee needs a platform acting on another account: not the platform's own
        # charge, nor a standalone account's charge made with its own key.
        if fee is not None and (call.account is None or call.own_key):
            raise invalid_request(
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
                "(using an OAuth key or Stripe-Account header) or destination payment (using "
                "`transfer_data[destination]`).",
                param=param,
            )

    def _session_line_items(self, cs: Obj, p: Obj) -> None:
        items = p.get("line_items")
        if not items:
            raise invalid_request(
                "You must specify `line_items` in `payment` mode.", param="line_items", code="parameter_missing"
            )
        if not isinstance(items, list):
            raise invalid_request("Invalid array", param="line_items")
        built = []
        currency = None
        for i, item in enumerate(items):
            prefix = f"line_items[{i}]"
            if not isinstance(item, dict):
                raise invalid_request("Invalid hash", param=prefix)
            check_known(item, {"price_data", "quantity", "price", "adjustable_quantity", "tax_rates"})
            if "price" in item:
                raise resource_missing("price", str(item["price"]), f"{prefix}[price]")
            data = item.get("price_data")
            if not isinstance(data, dict):
                raise invalid_request(
                    "You must specify either `price` or `price_data`.",
                    param=f"{prefix}[price_data]",
                    code="parameter_missing",
                )
            check_known(
                data, {"currency", "unit_amount", "unit_amount_decimal", "product_data", "product", "tax_behavior"}
            )
            item_currency = _currency(data)
            if currency and item_currency != currency:
                raise invalid_request(
                    "All line items must use the same currency.", param=f"{prefix}[price_data][currency]"
                )
            currency = item_currency
            unit = as_int(data, "unit_amount", required=True, minimum=0)
            quantity = as_int(item, "quantity", required=True, minimum=1)
            product = data.get("product_data")
            if not isinstance(product, dict) or not product.get("name"):
                raise invalid_request(
                    "Missing required param: line_items[0][price_data][product_data][name].",
                    param=f"{prefix}[price_data][product_data][name]",
                    code="parameter_missing",
                )
            assert unit is not None and quantity is not None and item_currency is not None
            built.append(
                shapes.line_item(
                    self.store.new_id("li"),
                    currency=item_currency,
                    unit_amount=unit,
                    quantity=quantity,
                    name=str(product["name"]),
                    price_id=self.store.new_id("price"),
                )
            )
        total = sum(li["amount_total"] for li in built)
        if total < MINIMUM_CHARGE:
            raise invalid_request(
                f"The Checkout Session's total amount due must add up to at least {MINIMUM_CHARGE} minor units.",
                param="line_items",
            )
        cs["currency"] = currency
        cs["amount_subtotal"] = total
        cs["amount_total"] = total
        cs["_line_items"] = built

    def session_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "cs"), call)

    def session_list(self, call: Call) -> Obj:
        pi = as_str(call.params, "payment_intent")
        customer = as_str(call.params, "customer")
        status = as_str(call.params, "status")
        return self._list(
            "cs",
            call,
            "/v1/checkout/sessions",
            lambda cs: (
                (pi is None or cs["payment_intent"] == pi)
                and (customer is None or cs["customer"] == customer)
                and (status is None or cs["status"] == status)
            ),
        )

    def session_line_items(self, call: Call) -> Obj:
        cs = self._get(call, "cs")
        items = cs.get("_line_items", [])
        return self.store.page(items, call.params, f"/v1/checkout/sessions/{cs['id']}/line_items", call.account)

    def session_expire(self, call: Call) -> Obj:
        cs = self._get(call, "cs")
        check_known(call.params, set())
        if cs["status"] != "open":
            raise invalid_request(
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
                f'status of "{cs["status"]}".',
                param="session",
            )
        self._expire_session(cs, call)
        return self._render(cs, call)

    def _expire_session(self, cs: Obj, call: Call | None) -> None:
        cs["status"] = "expired"
        cs["url"] = None
        pi = self.store.objects.get(cs["payment_intent"] or "")
        if pi and pi["status"] not in ("succeeded", "canceled"):
            pi["status"] = "canceled"
            pi["cancellation_reason"] = "abandoned"
            pi["canceled_at"] = self.store.now()
            self._emit("payment_intent.canceled", pi, self.store.owner[pi["id"]], call)
        self._emit("checkout.session.expired", cs, self.store.owner[cs["id"]], call)

    def expire_due_sessions(self) -> None:
        now = self.store.now()
        for id_ in self.store.ids("cs"):
            obj = self.store.objects[id_]
            if obj["status"] == "open" and obj["expires_at"] <= now:
                self._expire_session(obj, None)

    # -- paying a session (the hosted page) -----------------------------------------------

    def session_pay(
        self,
        session_id: str,
        *,
        number: str,
        exp_month: int,
        exp_year: int,
        cvc: str,
        email: str | None,
        name: str | None,
    ) -> Obj:
        """Pay or set up a Checkout Session with a test card, as the hosted page's form does.

        Returns {"outcome": "complete" | "authenticate" | "declined", ...}; raises ApiError when
        the session cannot take a payment (expired, complete, or the card is not a test card).
        """
        with self.store.lock:
            self.expire_due_sessions()
            cs = self.store.objects.get(session_id)
            if cs is None or not session_id.startswith("cs_"):
                raise resource_missing("checkout.session", session_id)
            if cs["status"] != "open":
                raise invalid_request(f"This Checkout Session is {cs['status']} and cannot be paid.")
            card = cards.card_for(number)
            if card is None:
                raise card_error(
                    "Your card number is incorrect. Use a Stripe test card such as 4242 4242 4242 4242.",
                    code="incorrect_number",
                    decline_code=None,
                    param="number",
                )
            current_year = self.store_year()
            if exp_year < 100:
                exp_year += 2000
            if not 1 <= exp_month <= 12:
                raise card_error(
                    "Your card's expiration month is invalid.",
                    code="invalid_expiry_month",
                    decline_code=None,
                    param="exp_month",
                )
            if exp_year < current_year:
                raise card_error(
                    "Your card's expiration year is in the past.",
                    code="invalid_expiry_year",
                    decline_code=None,
                    param="exp_year",
                )
            if not re.fullmatch(r"\d{3,4}", cvc or ""):
                raise card_error(
                    "Your card's security code is incomplete.", code="incomplete_cvc", decline_code=None, param="cvc"
                )
            account = self.store.owner[cs["id"]]
            email = email or cs["customer_email"]
            pm = self.payment_method_from_card(account, card.number, exp_month, exp_year, name=name, email=email)
            cs["_details"] = {"email": email, "name": name}
            if cs["mode"] == "setup":
                result = self._session_setup(cs, pm, card, account)
            else:
                result = self._session_payment(cs, pm, card, account)
            self.store.save()
            return result

    def _session_customer(self, cs: Obj, account: str | None, *, needed: bool) -> str | None:
        if cs["customer"]:
            return str(cs["customer"])
        if cs["customer_creation"] == "always" or needed:
            cus = shapes.customer(self.store.new_id("cus", 14), self.store.now())
            cus["email"] = cs["_details"]["email"]
            cus["name"] = cs["_details"]["name"]
            self.store.add(cus, account)
            self._emit("customer.created", cus, account)
            cs["customer"] = cus["id"]
            return str(cus["id"])
        return None

    def _session_payment(self, cs: Obj, pm: Obj, card: cards.TestCard, account: str | None) -> Obj:
        data = cs["_payment_intent_data"]
        pi = self.store.objects.get(cs["payment_intent"] or "")
        if pi is None:
            pi = shapes.payment_intent(
                self.store.new_id("pi"), self.store.now(), amount=cs["amount_total"], currency=cs["currency"]
            )
            pi["application_fee_amount"] = data["application_fee_amount"]
            pi["metadata"] = dict(data["metadata"])
            pi["description"] = data["description"]
            pi["setup_future_usage"] = data["setup_future_usage"]
            pi["receipt_email"] = data["receipt_email"]
            pi["statement_descriptor_suffix"] = data["statement_descriptor_suffix"]
            pi["_checkout_session"] = cs["id"]
            self.store.add(pi, account)
            cs["payment_intent"] = pi["id"]
            self._emit("payment_intent.created", pi, account)
        pi["customer"] = self._session_customer(cs, account, needed=bool(pi["setup_future_usage"]))
        pi["payment_method"] = pm["id"]
        try:
            self._confirm(pi, pm, card, account, off_session=False, call=None)
        except ApiError as error:
            return {"outcome": "declined", "message": error.body["message"], "payment_intent": pi["id"]}
        if pi["status"] == "requires_action":
            return {"outcome": "authenticate", "intent": pi["id"]}
        self._complete_session(cs, pi, pm)
        return {"outcome": "complete", "session": cs["id"]}

    def _session_setup(self, cs: Obj, pm: Obj, card: cards.TestCard, account: str | None) -> Obj:
        seti = self.store.objects.get(cs["setup_intent"] or "")
        if seti is None:
            seti = shapes.setup_intent(self.store.new_id("seti"), self.store.now())
            seti["metadata"] = dict(cs["_setup_intent_data"]["metadata"])
            seti["description"] = cs["_setup_intent_data"]["description"]
            seti["_checkout_session"] = cs["id"]
            self.store.add(seti, account)
            cs["setup_intent"] = seti["id"]
            self._emit("setup_intent.created", seti, account)
        seti["customer"] = self._session_customer(cs, account, needed=False)
        seti["payment_method"] = pm["id"]
        try:
            self._setup_confirm(seti, pm, card, account, call=None)
        except ApiError as error:
            return {"outcome": "declined", "message": error.body["message"], "setup_intent": seti["id"]}
        if seti["status"] == "requires_action":
            return {"outcome": "authenticate", "intent": seti["id"]}
        self._complete_session(cs, None, pm)
        return {"outcome": "complete", "session": cs["id"]}

    def _complete_session(self, cs: Obj, pi: Obj | None, pm: Obj) -> None:
        account = self.store.owner[cs["id"]]
        if pi is not None and pi["setup_future_usage"] and pi["customer"]:
            self._attach(pm, self.store.objects[pi["customer"]], None)
            pm["_setup"] = pi["setup_future_usage"] == "off_session"
        cs["status"] = "complete"
        cs["url"] = None
        if cs["mode"] == "payment":
            cs["payment_status"] = "paid"
        details = cs.get("_details", {})
        cs["customer_details"] = {
            "address": {**shapes._address(), "country": "US"},
            "business_name": None,
            "email": details.get("email"),
            "individual_name": None,
            "name": details.get("name"),
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        self._emit("checkout.session.completed", cs, account)

    def authenticate(self, intent_id: str, *, success: bool) -> Obj:
        """The "Complete authentication" / "Fail authentication" step of a test card that asks for 3DS."""
        with self.store.lock:
            intent = self.store.objects.get(intent_id)
            if intent is None or intent["object"] not in ("payment_intent", "setup_intent"):
                raise resource_missing("intent", intent_id)
            if intent["status"] != "requires_action":
                raise invalid_request(f"This {intent['object']} does not need authentication.")
            account = self.store.owner[intent_id]
            pm = self.store.objects[intent["payment_method"]]
            card = cards.card_for(pm["_number"])
            assert card is not None
            cs = self.store.objects.get(intent.get("_checkout_session") or "")
            intent["next_action"] = None
            if not success:
                self._authentication_failed(intent, pm, account)
                self.store.save()
                return {
                    "outcome": "declined",
                    "message": cards.AUTHENTICATION_FAILED_MESSAGE,
                    "session": cs and cs["id"],
                    "return_url": intent.get("_return_url"),
                }
            if intent["object"] == "payment_intent":
                self._charge(intent, pm, card, account, call=None, authenticated=True)
                if intent["setup_future_usage"] == "off_session":
                    pm["_setup"] = True
            else:
                self._setup_succeeded(intent, pm, account, call=None)
            if cs is not None:
                self._complete_session(cs, intent if intent["object"] == "payment_intent" else None, pm)
            self.store.save()
            return {"outcome": "complete", "session": cs and cs["id"], "return_url": intent.get("_return_url")}

    def _authentication_failed(self, intent: Obj, pm: Obj, account: str | None) -> None:
        error = {
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure"
            if intent["object"] == "payment_intent"
            else "setup_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
            "message": cards.AUTHENTICATION_FAILED_MESSAGE,
            "payment_method": self.store.render(pm),
        }
        intent["status"] = "requires_payment_method"
        if intent["object"] == "payment_intent":
            intent["last_payment_error"] = error
            self._emit("payment_intent.payment_failed", intent, account)
        else:
            intent["last_setup_error"] = error
            self._emit("setup_intent.setup_failed", intent, account)

    # -- payment intents ------------------------------------------------------------------

    _PI_PARAMS = {
        "amount",
        "currency",
        "customer",
        "payment_method",
        "confirm",
        "off_session",
        "application_fee_amount",
        "metadata",
        "description",
        "receipt_email",
        "setup_future_usage",
        "payment_method_types",
        "capture_method",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "return_url",
        "automatic_payment_methods",
        "error_on_requires_action",
        "confirmation_method",
        "payment_method_options",
        "transfer_group",
    }

    def payment_intent_create(self, call: Call) -> Obj:
        p = call.params
        check_known(p, self._PI_PARAMS)
        amount = as_int(p, "amount", required=True, minimum=1)
        assert amount is not None
        if amount < MINIMUM_CHARGE:
            raise invalid_request(
                f"Amount must be at least {MINIMUM_CHARGE} minor units", param="amount", code="amount_too_small"
            )
        currency = _currency(p)
        assert currency is not None
        confirm = as_bool(p, "confirm")
        off_session = as_bool(p, "off_session") if p.get("off_session") in ("true", "false", None, "") else True
        if off_session and not confirm:
            raise invalid_request("You may only specify `off_session` when `confirm` is true.", param="off_session")
        if as_str(p, "capture_method") not in (None, "automatic", "automatic_async"):
            raise invalid_request("The fake Stripe captures automatically only.", param="capture_method")
        fee = as_int(p, "application_fee_amount", minimum=0)
        self._check_fee(fee, call, "application_fee_amount")
        if fee is not None and fee > amount:
            raise invalid_request("The application fee cannot exceed the amount.", param="application_fee_amount")
        sfu = as_str(p, "setup_future_usage")
        if sfu not in (None, "on_session", "off_session"):
            raise invalid_request("Invalid setup_future_usage", param="setup_future_usage")
        customer = as_str(p, "customer")
        if customer:
            self.store.get(customer, call.account, param="customer", kind="cus")
        pm = None
        pm_id = as_str(p, "payment_method")
        if pm_id:
            pm = self._resolve_payment_method(pm_id, call, param="payment_method")
            self._check_pm_customer(pm, customer)
        pi = shapes.payment_intent(self.store.new_id("pi"), self.store.now(), amount=amount, currency=currency)
        pi.update(
            application_fee_amount=fee,
            customer=customer,
            description=as_str(p, "description"),
            receipt_email=as_str(p, "receipt_email"),
            setup_future_usage=sfu,
            statement_descriptor_suffix=as_str(p, "statement_descriptor_suffix"),
            payment_method=pm["id"] if pm else None,
        )
        _merge_metadata(pi, p)
        pi["_return_url"] = as_str(p, "return_url")
        if pm:
            pi["status"] = "requires_confirmation"
        self.store.add(pi, call.account)
        self._emit("payment_intent.created", pi, call.account, call)
        if confirm:
            if pm is None:
                raise invalid_request(
                    "You cannot confirm this PaymentIntent because it's missing a payment method.",
                    param="payment_method",
                    code="payment_intent_unexpected_state",
                )
            card = cards.card_for(pm["_number"])
            assert card is not None
            self._confirm(pi, pm, card, call.account, off_session=off_session, call=call)
        return self._render(pi, call)

    def _check_pm_customer(self, pm: Obj, customer: str | None) -> None:
        if pm["customer"] and pm["customer"] != customer:
            raise invalid_request(
                "The provided PaymentMethod is attached to another customer (or to a customer while none was "
                "given). Pass the customer the PaymentMethod is attached to.",
                param="payment_method",
            )

    def payment_intent_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "pi"), call)

    def payment_intent_list(self, call: Call) -> Obj:
        customer = as_str(call.params, "customer")
        return self._list("pi", call, "/v1/payment_intents", lambda pi: customer is None or pi["customer"] == customer)

    def payment_intent_update(self, call: Call) -> Obj:
        pi = self._get(call, "pi")
        check_known(
            call.params,
            {
                "metadata",
                "description",
                "receipt_email",
                "amount",
                "payment_method",
                "customer",
                "setup_future_usage",
                "application_fee_amount",
            },
        )
        if pi["status"] in ("succeeded", "canceled", "processing") and set(call.params) - {"metadata", "description"}:
            raise invalid_request(
                f"This PaymentIntent's amount could not be updated because it has a status of {pi['status']}.",
                code="payment_intent_unexpected_state",
            )
        _merge_metadata(pi, call.params)
        for name in ("description", "receipt_email"):
            if name in call.params:
                pi[name] = as_str(call.params, name)
        if "amount" in call.params:
            pi["amount"] = as_int(call.params, "amount", minimum=MINIMUM_CHARGE)
        if "customer" in call.params:
            customer = as_str(call.params, "customer")
            if customer:
                self.store.get(customer, call.account, param="customer", kind="cus")
            pi["customer"] = customer
        if "payment_method" in call.params:
            pm_id = as_str(call.params, "payment_method")
            pi["payment_method"] = (
                self._resolve_payment_method(pm_id, call, param="payment_method")["id"] if pm_id else None
            )
        return self._render(pi, call)

    def payment_intent_confirm(self, call: Call) -> Obj:
        pi = self._get(call, "pi")
        p = call.params
        check_known(
            p,
            {
                "payment_method",
                "off_session",
                "return_url",
                "receipt_email",
                "setup_future_usage",
                "error_on_requires_action",
                "payment_method_options",
            },
        )
        if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise invalid_request(
                f"This PaymentIntent's status is {pi['status']}, and it cannot be confirmed.",
                code="payment_intent_unexpected_state",
                param="payment_intent",
            )
        pm_id = as_str(p, "payment_method")
        if pm_id:
            pm = self._resolve_payment_method(pm_id, call, param="payment_method")
            self._check_pm_customer(pm, pi["customer"])
            pi["payment_method"] = pm["id"]
        if not pi["payment_method"]:
            raise invalid_request(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                param="payment_method",
                code="payment_intent_unexpected_state",
            )
        if "return_url" in p:
            pi["_return_url"] = as_str(p, "return_url")
        pm = self.store.objects[pi["payment_method"]]
        card = cards.card_for(pm["_number"])
        assert card is not None
        self._confirm(pi, pm, card, call.account, off_session=as_bool(p, "off_session"), call=call)
        return self._render(pi, call)

    def payment_intent_cancel(self, call: Call) -> Obj:
        pi = self._get(call, "pi")
        check_known(call.params, {"cancellation_reason"})
        if pi["status"] in ("succeeded", "canceled"):
            raise invalid_request(
                f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
                "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
                "requires_capture, requires_confirmation, requires_action, processing.",
                code="payment_intent_unexpected_state",
            )
        pi.update(
            status="canceled",
            canceled_at=self.store.now(),
            next_action=None,
            cancellation_reason=as_str(call.params, "cancellation_reason") or "requested_by_customer",
        )
        self._emit("payment_intent.canceled", pi, call.account, call)
        return self._render(pi, call)

    def _confirm(
        self, pi: Obj, pm: Obj, card: cards.TestCard, account: str | None, *, off_session: bool, call: Call | None
    ) -> None:
        """Confirm a PaymentIntent with a card: succeed, decline (402), or ask for authentication."""
        pi["payment_method"] = pm["id"]
        pi["last_payment_error"] = None
        needs_auth = card.charge == "authenticate"
        if off_session:
            needs_auth = card.auth_off_session == "always" or (
                card.auth_off_session == "unless_setup" and not pm.get("_setup")
            )
        if needs_auth and off_session:
            ch = self._failed_charge(
                pi,
                pm,
                account,
                "authentication_required",
                "authentication_required",
                cards.AUTHENTICATION_REQUIRED_MESSAGE,
                call,
            )
            raise card_error(
                cards.AUTHENTICATION_REQUIRED_MESSAGE,
                code="authentication_required",
                decline_code="authentication_required",
                charge=ch["id"],
                payment_intent=self.store.render(pi),
                payment_method=self.store.render(pm),
            )
        if needs_auth:
            pi["status"] = "requires_action"
            if pi.get("_return_url") or pi.get("_checkout_session"):
                pi["next_action"] = {
                    "type": "redirect_to_url",
                    "redirect_to_url": {
                        "url": f"{self.base_url()}/c/authenticate/{pi['id']}",
                        "return_url": pi.get("_return_url"),
                    },
                }
            else:
                pi["next_action"] = {
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {
                        "type": "three_d_secure_redirect",
                        "stripe_js": f"{self.base_url()}/c/authenticate/{pi['id']}",
                    },
                }
            self._emit("payment_intent.requires_action", pi, account, call)
            return
        if card.charge == "decline":
            code, message = cards.DECLINE_MESSAGES[card.decline_code or "generic_decline"]
            ch = self._failed_charge(pi, pm, account, code, card.decline_code, message, call)
            raise card_error(
                message,
                code=code,
                decline_code=card.decline_code,
                charge=ch["id"],
                payment_intent=self.store.render(pi),
                payment_method=self.store.render(pm),
            )
        self._charge(pi, pm, card, account, call=call)
        if pi["setup_future_usage"] and pi["customer"]:
            self._attach(pm, self.store.objects[pi["customer"]], call)
            if pi["setup_future_usage"] == "off_session":
                pm["_setup"] = True

    def _failed_charge(
        self,
        pi: Obj,
        pm: Obj,
        account: str | None,
        code: str,
        decline_code: str | None,
        message: str,
        call: Call | None,
    ) -> Obj:
        ch = shapes.charge(self.store.new_id("ch"), self.store.now(), pi=pi, pm=pm)
        ch.update(status="failed", failure_code=code, failure_message=message)
        ch["outcome"].update(
            network_status="declined_by_network",
            reason=decline_code,
            type="issuer_declined",
            risk_score=20,
            seller_message="The bank did not return any further details with this decline.",
        )
        self.store.add(ch, account)
        pi["latest_charge"] = ch["id"]
        pi["status"] = "requires_payment_method"
        pi["next_action"] = None
        pi["last_payment_error"] = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "charge": ch["id"],
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message,
            "payment_method": self.store.render(pm),
        }
        self._emit("charge.failed", ch, account, call)
        self._emit("payment_intent.payment_failed", pi, account, call)
        return ch

    def _charge(
        self,
        pi: Obj,
        pm: Obj,
        card: cards.TestCard,
        account: str | None,
        *,
        call: Call | None,
        authenticated: bool = False,
    ) -> Obj:
        now = self.store.now()
        ch = shapes.charge(self.store.new_id("ch"), now, pi=pi, pm=pm)
        ch.update(status="succeeded", paid=True, captured=True, amount_captured=pi["amount"])
        if authenticated:
            ch["payment_method_details"]["card"]["three_d_secure"] = {
                "authentication_flow": "challenge",
                "electronic_commerce_indicator": "05",
                "exemption_indicator": None,
                "result": "authenticated",
                "result_reason": None,
                "transaction_id": None,
                "version": "2.2.0",
            }
        fee_details = [
            shapes.fee_detail(_stripe_fee(pi["amount"]), pi["currency"], "stripe_fee", "Stripe processing fees")
        ]
        if pi["application_fee_amount"]:
            ch["application_fee"] = None
            fee_details.append(
                shapes.fee_detail(pi["application_fee_amount"], pi["currency"], "application_fee", "Application fee")
            )
        self.store.add(ch, account)
        txn = self._balance_transaction(
            account,
            amount=pi["amount"],
            currency=pi["currency"],
            fee_details=fee_details,
            source=ch["id"],
            type_="charge",
            category="charge",
            description=pi["description"],
        )
        ch["balance_transaction"] = txn["id"]
        pi.update(
            status="succeeded",
            amount_received=pi["amount"],
            latest_charge=ch["id"],
            next_action=None,
            last_payment_error=None,
        )
        self._emit("charge.succeeded", ch, account, call)
        self._emit("payment_intent.succeeded", pi, account, call)
        return ch

    def _balance_transaction(
        self,
        account: str | None,
        *,
        amount: int,
        currency: str,
        fee_details: list[Obj],
        source: str,
        type_: str,
        category: str,
        description: str | None,
    ) -> Obj:
        now = self.store.now()
        txn = shapes.balance_transaction(
            self.store.new_id("txn"),
            now,
            amount=amount,
            currency=currency,
            fee_details=fee_details,
            source=source,
            type_=type_,
            reporting_category=category,
            description=description,
            available_on=now,
        )
        txn["_payout"] = None
        return self.store.add(txn, account)

    # -- setup intents --------------------------------------------------------------------

    def setup_intent_create(self, call: Call) -> Obj:
        p = call.params
        check_known(
            p,
            {
                "customer",
                "payment_method",
                "confirm",
                "usage",
                "metadata",
                "description",
                "payment_method_types",
                "return_url",
                "automatic_payment_methods",
                "payment_method_options",
            },
        )
        seti = shapes.setup_intent(self.store.new_id("seti"), self.store.now())
        customer = as_str(p, "customer")
        if customer:
            self.store.get(customer, call.account, param="customer", kind="cus")
        seti["customer"] = customer
        seti["description"] = as_str(p, "description")
        usage = as_str(p, "usage") or "off_session"
        if usage not in ("on_session", "off_session"):
            raise invalid_request("Invalid usage", param="usage")
        seti["usage"] = usage
        seti["_return_url"] = as_str(p, "return_url")
        _merge_metadata(seti, p)
        pm_id = as_str(p, "payment_method")
        pm = self._resolve_payment_method(pm_id, call, param="payment_method") if pm_id else None
        if pm:
            self._check_pm_customer(pm, customer)
            seti["payment_method"] = pm["id"]
            seti["status"] = "requires_confirmation"
        self.store.add(seti, call.account)
        self._emit("setup_intent.created", seti, call.account, call)
        if as_bool(p, "confirm"):
            if pm is None:
                raise invalid_request(
                    "You cannot confirm this SetupIntent because it's missing a payment method.", param="payment_method"
                )
            card = cards.card_for(pm["_number"])
            assert card is not None
            self._setup_confirm(seti, pm, card, call.account, call=call)
        return self._render(seti, call)

    def setup_intent_confirm(self, call: Call) -> Obj:
        seti = self._get(call, "seti")
        check_known(call.params, {"payment_method", "return_url", "payment_method_options"})
        if seti["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise invalid_request(
                f"This SetupIntent's status is {seti['status']}, and it cannot be confirmed.",
                code="setup_intent_unexpected_state",
            )
        pm_id = as_str(call.params, "payment_method") or seti["payment_method"]
        if not pm_id:
            raise invalid_request(
                "You cannot confirm this SetupIntent because it's missing a payment method.", param="payment_method"
            )
        pm = self._resolve_payment_method(pm_id, call, param="payment_method")
        if "return_url" in call.params:
            seti["_return_url"] = as_str(call.params, "return_url")
        card = cards.card_for(pm["_number"])
        assert card is not None
        self._setup_confirm(seti, pm, card, call.account, call=call)
        return self._render(seti, call)

    def _setup_confirm(
        self, seti: Obj, pm: Obj, card: cards.TestCard, account: str | None, *, call: Call | None
    ) -> None:
        seti["payment_method"] = pm["id"]
        seti["last_setup_error"] = None
        if card.charge == "decline" and card.attach_declines:
            code, message = cards.DECLINE_MESSAGES[card.decline_code or "generic_decline"]
            seti["status"] = "requires_payment_method"
            seti["last_setup_error"] = {
                "type": "card_error",
                "code": code,
                "decline_code": card.decline_code,
                "message": message,
                "payment_method": self.store.render(pm),
            }
            self._emit("setup_intent.setup_failed", seti, account, call)
            raise card_error(
                message,
                code=code,
                decline_code=card.decline_code,
                setup_intent=self.store.render(seti),
                payment_method=self.store.render(pm),
            )
        if card.charge == "authenticate":
            seti["status"] = "requires_action"
            seti["next_action"] = {
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "url": f"{self.base_url()}/c/authenticate/{seti['id']}",
                    "return_url": seti.get("_return_url"),
                },
            }
            self._emit("setup_intent.requires_action", seti, account, call)
            return
        self._setup_succeeded(seti, pm, account, call=call)

    def _setup_succeeded(self, seti: Obj, pm: Obj, account: str | None, *, call: Call | None) -> None:
        seti["status"] = "succeeded"
        seti["next_action"] = None
        pm["_setup"] = seti["usage"] == "off_session"
        if seti["customer"]:
            self._attach(pm, self.store.objects[seti["customer"]], call)
        self._emit("setup_intent.succeeded", seti, account, call)

    def setup_intent_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "seti"), call)

    def setup_intent_list(self, call: Call) -> Obj:
        customer = as_str(call.params, "customer")
        return self._list("seti", call, "/v1/setup_intents", lambda s: customer is None or s["customer"] == customer)

    def setup_intent_cancel(self, call: Call) -> Obj:
        seti = self._get(call, "seti")
        check_known(call.params, {"cancellation_reason"})
        if seti["status"] in ("succeeded", "canceled"):
            raise invalid_request(
                f"You cannot cancel this SetupIntent because it has a status of {seti['status']}.",
                code="setup_intent_unexpected_state",
            )
        seti.update(
            status="canceled",
            next_action=None,
            cancellation_reason=as_str(call.params, "cancellation_reason") or "requested_by_customer",
        )
        self._emit("setup_intent.canceled", seti, call.account, call)
        return self._render(seti, call)

    # -- charges, refunds -----------------------------------------------------------------

    def charge_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "ch"), call)

    def charge_list(self, call: Call) -> Obj:
        pi = as_str(call.params, "payment_intent")
        customer = as_str(call.params, "customer")
        return self._list(
            "ch",
            call,
            "/v1/charges",
            lambda ch: (pi is None or ch["payment_intent"] == pi) and (customer is None or ch["customer"] == customer),
        )

    def refund_create(self, call: Call) -> Obj:
        p = call.params
        check_known(
            p,
            {
                "charge",
                "payment_intent",
                "amount",
                "reason",
                "metadata",
                "refund_application_fee",
                "reverse_transfer",
                "instructions_email",
            },
        )
        charge_id = as_str(p, "charge")
        pi_id = as_str(p, "payment_intent")
        if bool(charge_id) == bool(pi_id):
            raise invalid_request(
                "You must pass exactly one of `charge` or `payment_intent`.", param="charge", code="parameter_missing"
            )
        if pi_id:
            pi = self.store.get(pi_id, call.account, param="payment_intent", kind="pi")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                raise invalid_request(
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    param="payment_intent",
                    code="charge_not_refundable",
                )
            charge_id = pi["latest_charge"]
        assert charge_id is not None
        ch = self.store.get(charge_id, call.account, param="charge", kind="ch")
        if ch["status"] != "succeeded":
            raise invalid_request(f"Charge {charge_id} did not succeed and cannot be refunded.", param="charge")
        if ch["disputed"]:
            raise invalid_request(
                f"Charge {charge_id} has been charged back; cannot issue a refund.",
                code="charge_disputed",
                param="charge",
            )
        remaining = ch["amount"] - ch["amount_refunded"]
        if remaining <= 0:
            raise invalid_request(
                f"Charge {charge_id} has already been refunded.", code="charge_already_refunded", param="charge"
            )
        amount = as_int(p, "amount", minimum=1)
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise invalid_request(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})", param="amount"
            )
        reason = as_str(p, "reason")
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise invalid_request(
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", param="reason"
            )
        re_ = shapes.refund(self.store.new_id("re"), self.store.now(), amount=amount, ch=ch, reason=reason)
        _merge_metadata(re_, p)
        self.store.add(re_, call.account)
        txn = self._balance_transaction(
            call.account,
            amount=-amount,
            currency=ch["currency"],
            fee_details=[],
            source=re_["id"],
            type_="refund",
            category="refund",
            description="REFUND FOR CHARGE",
        )
        re_["balance_transaction"] = txn["id"]
        previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
        ch["amount_refunded"] += amount
        ch["refunded"] = ch["amount_refunded"] == ch["amount"]
        ch["refunds"]["data"].insert(0, self.store.render(re_))
        ch["refunds"]["total_count"] += 1
        self._emit("refund.created", re_, call.account, call)
        self._emit("charge.refunded", ch, call.account, call, previous=previous)
        return self._render(re_, call)

    def refund_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "re"), call)

    def refund_list(self, call: Call) -> Obj:
        charge = as_str(call.params, "charge")
        pi = as_str(call.params, "payment_intent")
        return self._list(
            "re",
            call,
            "/v1/refunds",
            lambda r: (charge is None or r["charge"] == charge) and (pi is None or r["payment_intent"] == pi),
        )

    # -- disputes -------------------------------------------------------------------------

    def dispute_open(self, charge_id: str, *, amount: int | None = None, reason: str = "fraudulent") -> Obj:
        """A cardholder disputes a charge (Stripe's test card 0259 does this; here a control call)."""
        with self.store.lock:
            ch = self.store.objects.get(charge_id)
            if ch is None or not charge_id.startswith("ch_"):
                raise resource_missing("charge", charge_id, "charge")
            if ch["status"] != "succeeded" or ch["disputed"]:
                raise invalid_request(f"Charge {charge_id} cannot be disputed.", param="charge")
            account = self.store.owner[charge_id]
            amount = amount or ch["amount"] - ch["amount_refunded"]
            now = self.store.now()
            dp = shapes.dispute(
                self.store.new_id("dp"), now, ch=ch, amount=amount, reason=reason, due_by=now + 7 * 86400
            )
            self.store.add(dp, account)
            txn = self._balance_transaction(
                account,
                amount=-amount,
                currency=ch["currency"],
                source=dp["id"],
                type_="adjustment",
                category="dispute",
                description=f"Chargeback withdrawal for {charge_id}",
                fee_details=[shapes.fee_detail(DISPUTE_FEE, ch["currency"], "stripe_fee", "Dispute fee")],
            )
            dp["balance_transactions"].append(self.store.render(txn))
            ch["disputed"] = True
            self._emit("charge.dispute.created", dp, account)
            self._emit("charge.dispute.funds_withdrawn", dp, account)
            self.store.save()
            return dp

    def dispute_close(self, dispute_id: str, outcome: str) -> Obj:
        with self.store.lock:
            dp = self.store.objects.get(dispute_id)
            if dp is None or not dispute_id.startswith("dp_"):
                raise resource_missing("dispute", dispute_id)
            if outcome not in ("won", "lost"):
                raise invalid_request("outcome must be won or lost", param="outcome")
            if dp["status"] in ("won", "lost"):
                raise invalid_request(f"This dispute is already closed ({dp['status']}).")
            account = self.store.owner[dispute_id]
            previous = {"status": dp["status"]}
            dp["status"] = outcome
            if outcome == "won":
                txn = self._balance_transaction(
                    account,
                    amount=dp["amount"],
                    currency=dp["currency"],
                    fee_details=[],
                    source=dp["id"],
                    type_="adjustment",
                    category="dispute_reversal",
                    description=f"Chargeback reversal for {dp['charge']}",
                )
                dp["balance_transactions"].append(self.store.render(txn))
                self._emit("charge.dispute.funds_reinstated", dp, account)
            self._emit("charge.dispute.closed", dp, account, previous=previous)
            self.store.save()
            return dp

    def dispute_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "dp"), call)

    def dispute_list(self, call: Call) -> Obj:
        charge = as_str(call.params, "charge")
        pi = as_str(call.params, "payment_intent")
        return self._list(
            "dp",
            call,
            "/v1/disputes",
            lambda d: (charge is None or d["charge"] == charge) and (pi is None or d["payment_intent"] == pi),
        )

    def dispute_update(self, call: Call) -> Obj:
        dp = self._get(call, "dp")
        check_known(call.params, {"evidence", "metadata", "submit"})
        _merge_metadata(dp, call.params)
        evidence = call.params.get("evidence")
        if isinstance(evidence, dict):
            for key, value in evidence.items():
                if key not in dp["evidence"]:
                    raise invalid_request(f"Received unknown parameter: evidence[{key}]", param=f"evidence[{key}]")
                dp["evidence"][key] = value
            dp["evidence_details"]["has_evidence"] = True
        if as_bool(call.params, "submit"):
            dp["status"] = "under_review"
            dp["evidence_details"]["submission_count"] += 1
        self._emit("charge.dispute.updated", dp, call.account, call)
        return self._render(dp, call)

    def dispute_accept(self, call: Call) -> Obj:
        dp = self._get(call, "dp")
        if dp["status"] in ("won", "lost"):
            raise invalid_request(f"This dispute is already closed ({dp['status']}).")
        previous = {"status": dp["status"]}
        dp["status"] = "lost"
        self._emit("charge.dispute.closed", dp, call.account, call, previous=previous)
        return self._render(dp, call)

    # -- balance, payouts -----------------------------------------------------------------

    def _unpaid_net(self, account: str | None) -> dict[str, int]:
        totals: dict[str, int] = {}
        for txn in self.store.all("txn", account, lambda t: t["_payout"] is None):
            totals[txn["currency"]] = totals.get(txn["currency"], 0) + txn["net"]
        return totals

    def balance_retrieve(self, call: Call) -> Obj:
        return shapes.balance(self._unpaid_net(call.account), {})

    def payout_make(self, account: str | None, currency: str | None = None) -> Obj:
        """Pay out the available balance (Stripe's daily automatic payout, on demand)."""
        with self.store.lock:
            if account:
                self.store.get(account, None, param="account", kind="acct")
            totals = self._unpaid_net(account)
            if currency is None:
                currency = max(totals, key=lambda c: totals[c]) if totals else "usd"
            amount = totals.get(currency, 0)
            if amount <= 0:
                raise invalid_request(
                    "You have insufficient funds in your Stripe account for this payout.", code="balance_insufficient"
                )
            destination = None
            if account:
                banks = self.store.objects[account]["external_accounts"]["data"]
                destination = banks[0]["id"] if banks else None
            po = shapes.payout(
                self.store.new_id("po"), self.store.now(), amount=amount, currency=currency, destination=destination
            )
            self.store.add(po, account)
            included = self.store.all("txn", account, lambda t: t["_payout"] is None and t["currency"] == currency)
            txn = self._balance_transaction(
                account,
                amount=-amount,
                currency=currency,
                fee_details=[],
                source=po["id"],
                type_="payout",
                category="payout",
                description="STRIPE PAYOUT",
            )
            for t in [*included, txn]:
                t["_payout"] = po["id"]
            po["balance_transaction"] = txn["id"]
            self._emit("payout.created", po, account)
            self._emit("payout.paid", po, account)
            self.store.save()
            return po

    def balance_transaction_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "txn"), call)

    def balance_transaction_list(self, call: Call) -> Obj:
        payout = as_str(call.params, "payout")
        kind = as_str(call.params, "type")
        source = as_str(call.params, "source")
        currency = as_str(call.params, "currency")
        if payout:
            self.store.get(payout, call.account, param="payout", kind="po")
        return self._list(
            "txn",
            call,
            "/v1/balance_transactions",
            lambda t: (
                (payout is None or t["_payout"] == payout)
                and (kind is None or t["type"] == kind)
                and (source is None or t["source"] == source)
                and (currency is None or t["currency"] == currency)
            ),
        )

    def payout_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "po"), call)

    def payout_list(self, call: Call) -> Obj:
        status = as_str(call.params, "status")
        return self._list("po", call, "/v1/payouts", lambda po: status is None or po["status"] == status)

    # -- events ---------------------------------------------------------------------------

    def event_retrieve(self, call: Call) -> Obj:
        return self._render(self._get(call, "evt"), call)

    def event_list(self, call: Call) -> Obj:
        kind = as_str(call.params, "type")
        types = call.params.get("types")
        wanted = set(types) if isinstance(types, list) else None

        def match(e: Obj) -> bool:
            if kind and not (e["type"] == kind or (kind.endswith("*") and e["type"].startswith(kind[:-1]))):
                return False
            return wanted is None or e["type"] in wanted

        return self._list("evt", call, "/v1/events", match)
