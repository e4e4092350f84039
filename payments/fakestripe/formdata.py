"""Stripe's form encoding: ``metadata[key]=v``, ``line_items[0][price_data][unit_amount]=1``, ``expand[]=x``.

stripe-python sends every request body (and GET query) this way; the fake turns it back into
the nested dicts and lists the API was called with. Values stay strings, as they do on the wire:
each handler coerces what it reads (``as_int``, ``as_bool``), so a wrong type fails there with
Stripe's own error instead of deep inside the fake.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid_request

_PART = re.compile(r"\[([^\[\]]*)\]")


def _split(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    if not rest:
        return [head]
    parts = [head, *_PART.findall("[" + rest)]
    if "[" + rest != "".join(f"[{p}]" for p in parts[1:]):
        raise invalid_request(f"Invalid parameter name: {key}", param=key)
    return parts


def _listify(node: Any) -> Any:
    """Turn dicts whose keys are all list positions ("0", "1", or "" for ``[]``) into lists."""
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(isinstance(k, str) and k.startswith("\0") for k in node):
            return [node[k] for k in sorted(node, key=lambda k: int(k[1:].split(":")[0]))]
        return node
    return node


def parse(body: str) -> dict[str, Any]:
    """Parse a form-encoded body into nested dicts and lists."""
    result: dict[str, Any] = {}
    appended = 0
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _split(key)
        node: dict[str, Any] = result
        for i, part in enumerate(parts):
            # metadata keys may be digits ("metadata[2024]"): they are names, not list positions.
            if i > 0 and parts[i - 1] != "metadata" and (part == "" or part.isdigit()):
                # List positions are kept as marked keys until the whole body is read, because
                # a list of dicts arrives one leaf at a time (items[0][a], items[0][b]).
                if part == "":
                    appended += 1
                    part = f"\0{appended + 1_000_000}:append"
                else:
                    part = f"\0{int(part)}"
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    listed = _listify(result)
    assert isinstance(listed, dict)
    return listed


def as_int(params: dict[str, Any], name: str, *, required: bool = False, minimum: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid_request(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_request(f"Invalid integer: {value}", param=name) from None
    if minimum is not None and number < minimum:
        raise invalid_request(f"This value must be greater than or equal to {minimum}.", param=name)
    return number


def as_bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return False
    if value in ("true", "false"):
        return value == "true"
    raise invalid_request(f"Invalid boolean: {value}", param=name)


def as_str(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid_request(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(value, str):
        raise invalid_request(f"Invalid string: {name}", param=name)
    return value


def as_metadata(params: dict[str, Any], name: str = "metadata") -> dict[str, str] | None:
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return {}
    if not isinstance(value, dict) or any(not isinstance(v, str) for v in value.values()):
        raise invalid_request("Invalid metadata: must be a hash of strings.", param=name)
    if len(value) > 50:
        raise invalid_request("Invalid metadata: metadata can have up to 50 keys.", param=name)
    for k, v in value.items():
        if len(k) > 40 or len(v) > 500:
            raise invalid_request(
                "Invalid metadata: keys up to 40 characters, values up to 500 characters.", param=f"{name}[{k}]"
            )
    return dict(value)


def check_known(params: dict[str, Any], allowed: set[str]) -> None:
    """Stripe refuses parameters it does not know; so does the fake, so a typo fails in tests."""
    for key in params:
        if key not in allowed and key != "expand":
            raise invalid_request(f"Received unknown parameter: {key}", param=key)
