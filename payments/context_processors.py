"""The test-mode banner: shown while payments go to the fake Stripe (``make run`` without keys)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .gateway import fake_in_use

TEST_MODE_BANNER = "Test mode: payments go to a simulated Stripe"


def stripe_test_mode(request: HttpRequest) -> dict[str, Any]:
    return {"stripe_test_mode_banner": TEST_MODE_BANNER if fake_in_use() else ""}
