"""Stripe's error envelope: ``{"error": {"type", "code", "decline_code", "message", "param", ...}}``."""

from __future__ import annotations

from typing import Any

DOC_URL = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """An error the fake answers with, in Stripe's envelope and with Stripe's HTTP status."""

    def __init__(self, status: int, body: dict[str, Any], *, saved: bool = False) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body
        # Stripe saves the result of a request that started executing (a card decline) under
        # its idempotency key, but not one refused before it ran (a bad parameter, a 404).
        self.saved = saved

    def envelope(self) -> dict[str, Any]:
        return {"error": self.body}


def _error(
    status: int, type_: str, message: str, *, code: str | None = None, param: str | None = None, saved: bool = False
) -> ApiError:
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
        body["doc_url"] = DOC_URL + code
    if param:
        body["param"] = param
    return ApiError(status, body, saved=saved)


def invalid_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return _error(400, "invalid_request_error", message, code=code, param=param)


def resource_missing(kind: str, id_: str, param: str = "id") -> ApiError:
    return _error(404, "invalid_request_error", f"No such {kind}: '{id_}'", code="resource_missing", param=param)


def not_found_url(method: str, path: str) -> ApiError:
    return _error(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )


def authentication(message: str) -> ApiError:
    return _error(401, "invalid_request_error", message)


def permission(message: str) -> ApiError:
    """Stripe's 403: a key used on an account it has no access to."""
    return _error(403, "invalid_request_error", message)


def idempotency_mismatch(key: str) -> ApiError:
    # Stripe answers a reused key with other parameters with 400; stripe-python raises
    # IdempotencyError only for 400/404 (a 409 would be retried as a conflict).
    return _error(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request.",
    )


def idempotency_in_progress() -> ApiError:
    # A second request with the key while the first still runs: 409, which stripe-python retries.
    return _error(
        409,
        "idempotency_error",
        "There is currently another in-progress request using this Stripe API key (or connected account) and "
        "idempotency key (if applicable), which means you've sent a duplicate request too quickly. "
        "Please retry your request later.",
    )


def rate_limit() -> ApiError:
    return _error(
        429,
        "invalid_request_error",
        "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        code="rate_limit",
    )


def api_error() -> ApiError:
    return _error(500, "api_error", "An unknown error occurred")


def card_error(
    message: str,
    *,
    code: str,
    decline_code: str | None,
    payment_intent: dict[str, Any] | None = None,
    setup_intent: dict[str, Any] | None = None,
    payment_method: dict[str, Any] | None = None,
    charge: str | None = None,
    param: str | None = None,
) -> ApiError:
    error = _error(402, "card_error", message, code=code, param=param, saved=True)
    if decline_code:
        error.body["decline_code"] = decline_code
    if charge:
        error.body["charge"] = charge
    if payment_intent is not None:
        error.body["payment_intent"] = payment_intent
    if setup_intent is not None:
        error.body["setup_intent"] = setup_intent
    if payment_method is not None:
        error.body["payment_method"] = payment_method
    return error
