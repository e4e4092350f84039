"""Checking a webhook's Stripe-Signature: the gateway does it (the only code that imports
``stripe``); this name stays for the webhook view and the bench."""

from __future__ import annotations

from .gateway.signature import TOLERANCE_SECONDS, webhook_secret_matching

__all__ = ["TOLERANCE_SECONDS", "webhook_secret_matching"]
