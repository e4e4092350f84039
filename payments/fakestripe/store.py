"""The fake's state: every object by id, the account that owns it, and the events it caused.

One re-entrant lock guards everything; each API call runs whole under it, as a request to Stripe
is atomic from the caller's side. Objects are kept as plain JSON-able dicts so the whole state
can be written to a file and read back (the demo mode keeps its accounts across restarts).
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import string
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import shapes
from .errors import invalid_request, resource_missing

Obj = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits

# What an id's prefix is called in Stripe's "No such ..." messages.
KINDS = {
    "acct": "account",
    "cus": "customer",
    "cs": "checkout.session",
    "pi": "payment_intent",
    "seti": "setup_intent",
    "pm": "PaymentMethod",
    "ch": "charge",
    "re": "refund",
    "dp": "dispute",
    "txn": "balance transaction",
    "po": "payout",
    "evt": "event",
}


def _prefix(id_: str) -> str:
    if id_.startswith("cs_test_"):
        return "cs"
    return id_.split("_", 1)[0]


class Store:
    def __init__(self, *, on_event: Callable[[Obj], None] | None = None, path: str | None = None) -> None:
        self.lock = threading.RLock()
        self.on_event = on_event
        self.path = path
        self.reset()
        if path and os.path.exists(path):
            self._load(path)

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, Obj] = {}
            # The ids of each kind ("cs", "pi", ...) in the order they were added, so a
            # request that looks at one kind does not scan every object of the store.
            self.kinds: dict[str, dict[str, None]] = {}
            self.owner: dict[str, str | None] = {}
            self.seq: dict[str, int] = {}
            self.counter = 0
            self.clock_offset = 0
            # Per account link / login link token: what it opens.
            self.links: dict[str, Obj] = {}
            # The secret keys of standalone accounts (their own keys, not the platform's):
            # key -> {"account": id, "publishable": key, "revoked": bool}.
            self.api_keys: dict[str, Obj] = {}

    # -- time and ids ---------------------------------------------------------------------

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def new_id(self, prefix: str, length: int = 24) -> str:
        tail = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if prefix == "cs":
            return "cs_test_" + "".join(secrets.choice(_ALPHABET) for _ in range(58))
        return f"{prefix}_1Fake{tail[: length - 5]}"

    # -- objects --------------------------------------------------------------------------

    def add(self, obj: Obj, account: str | None) -> Obj:
        with self.lock:
            self.counter += 1
            self.objects[obj["id"]] = obj
            self.kinds.setdefault(_prefix(obj["id"]), {})[obj["id"]] = None
            self.owner[obj["id"]] = account
            self.seq[obj["id"]] = self.counter
            return obj

    def get(self, id_: str, account: str | None, *, param: str = "id", kind: str | None = None) -> Obj:
        """An object visible to ``account`` (the Stripe-Account header), or Stripe's 404."""
        label = KINDS.get(_prefix(id_), kind or "object")
        if kind and _prefix(id_) != kind:
            raise resource_missing(KINDS.get(kind, kind), id_, param)
        obj = self.objects.get(id_)
        if obj is None or not self.visible(id_, account):
            raise resource_missing(label, id_, param)
        return obj

    def standalone(self, account: str | None) -> bool:
        """Whether ``account`` is a standalone account (its own keys; nobody's connected account)."""
        return bool(account) and bool(self.objects.get(account or "", {}).get("_standalone"))

    def key_account(self, key: str) -> str | None:
        """The standalone account a secret key belongs to; None for a platform key. Raises
        Stripe's 401 for a key that was revoked (rolled in the dashboard)."""
        from .errors import authentication

        with self.lock:
            entry = self.api_keys.get(key)
            if entry is None:
                return None
            if entry["revoked"]:
                raise authentication(f"Invalid API Key provided: {key[:8]}{'*' * 16}{key[-4:]}")
            return str(entry["account"])

    def visible(self, id_: str, account: str | None) -> bool:
        if id_ not in self.objects:
            return False
        if _prefix(id_) == "acct":
            # The platform sees its connected accounts; an account sees itself.
            return account is None or account == id_
        return self.owner.get(id_) == account

    def ids(self, prefix: str) -> list[str]:
        """The ids of the objects of one kind, oldest first."""
        return [id_ for id_ in self.kinds.get(prefix, {}) if id_ in self.objects]

    def all(self, prefix: str, account: str | None, where: Callable[[Obj], bool] | None = None) -> list[Obj]:
        """Objects of one kind in scope, newest first (Stripe's list order)."""
        found = [
            obj
            for obj in (self.objects[id_] for id_ in self.ids(prefix))
            if self.visible(obj["id"], account) and (where is None or where(obj))
        ]
        found.sort(key=lambda o: self.seq[o["id"]], reverse=True)
        return found

    # -- rendering ------------------------------------------------------------------------

    def render(self, obj: Obj, expand: Iterable[str] = (), account: str | None = None) -> Obj:
        out = _public(obj)
        for path in expand:
            if path.count(".") > 3:
                raise invalid_request(
                    f"You cannot expand more than 4 levels of a property. Property: {path}", param="expand"
                )
            self._expand(out, path.split("."), account, path)
        return out

    def _expand(self, node: Any, parts: list[str], account: str | None, full: str) -> None:
        if not parts:
            return
        if isinstance(node, list):
            for item in node:
                self._expand(item, parts, account, full)
            return
        if not isinstance(node, dict):
            return
        key, rest = parts[0], parts[1:]
        if key not in node:
            raise invalid_request(
                f"This property cannot be expanded ({full}). You may want to try expanding 'data.{full}' instead."
                if node.get("object") == "list"
                else f"This property cannot be expanded ({full}).",
                param="expand",
            )
        value = node[key]
        if isinstance(value, str) and value in self.objects:
            scope = account if _prefix(value) != "acct" else None
            if not self.visible(value, scope) and _prefix(value) != "acct":
                return
            value = _public(self.objects[value])
            node[key] = value
        self._expand(value, rest, account, full)

    def page(self, items: list[Obj], params: Obj, url: str, account: str | None) -> Obj:
        from .formdata import as_int, as_str

        limit = as_int(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise invalid_request("This value must be less than or equal to 100.", param="limit")
        created = params.get("created")
        if isinstance(created, dict):
            tests: dict[str, Callable[[int, int], bool]] = {
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            for op, bound in created.items():
                if op in tests:
                    items = [o for o in items if tests[op](o["created"], int(bound))]
        elif isinstance(created, str) and created:
            items = [o for o in items if o["created"] == int(created)]
        after = as_str(params, "starting_after")
        before = as_str(params, "ending_before")
        ids = [o["id"] for o in items]
        if after:
            if after not in ids:
                raise resource_missing(KINDS.get(_prefix(after), "object"), after, "starting_after")
            items = items[ids.index(after) + 1 :]
        elif before:
            if before not in ids:
                raise resource_missing(KINDS.get(_prefix(before), "object"), before, "ending_before")
            items = items[: ids.index(before)][-limit:]
        expand = [p[5:] for p in _expand_list(params) if p.startswith("data.")]
        return {
            "object": "list",
            "data": [self.render(o, expand, account) for o in items[:limit]],
            "has_more": len(items) > limit,
            "url": url,
        }

    # -- events ---------------------------------------------------------------------------

    def emit(
        self,
        type_: str,
        obj: Obj,
        account: str | None,
        *,
        previous: Obj | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Obj:
        standalone = self.standalone(account)
        event = shapes.event(
            self.new_id("evt"),
            self.now(),
            type_=type_,
            obj=_public(obj),
            # A standalone account's events name no account (it is nobody's connected
            # account); only its own endpoints get them (``_account``, never sent).
            account=None if standalone else account,
            previous=previous,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )
        if standalone:
            event["_account"] = account
        self.add(event, account)
        if self.on_event is not None:
            self.on_event(event)
        return event

    # -- persistence ----------------------------------------------------------------------

    def save(self) -> None:
        if not self.path:
            return
        with self.lock:
            data = {
                "objects": self.objects,
                "owner": self.owner,
                "seq": self.seq,
                "counter": self.counter,
                "clock_offset": self.clock_offset,
                "links": self.links,
                "api_keys": self.api_keys,
            }
            folder = os.path.dirname(os.path.abspath(self.path))
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fakestripe-")
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)

    def _load(self, path: str) -> None:
        with open(path) as fh:
            data = json.load(fh)
        self.objects = data["objects"]
        self.kinds = {}
        for id_ in self.objects:
            self.kinds.setdefault(_prefix(id_), {})[id_] = None
        self.owner = data["owner"]
        self.seq = data["seq"]
        self.counter = data["counter"]
        self.clock_offset = data.get("clock_offset", 0)
        self.links = data.get("links", {})
        self.api_keys = data.get("api_keys", {})


def _public(obj: Obj) -> Obj:
    """A deep copy without the fake's own "_" keys."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if not k.startswith("_")}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return copy.copy(value)

    result = clean(obj)
    assert isinstance(result, dict)
    return result


def _expand_list(params: Obj) -> list[str]:
    value = params.get("expand")
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise invalid_request("Invalid array", param="expand")


expand_list = _expand_list
public = _public
