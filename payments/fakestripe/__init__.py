"""A fake Stripe API server on loopback, for tests and the demo mode.

stripe-python talks to it unchanged (point its base address here); see server.FakeStripe and
control.ControlClient. It imports nothing from the project, so it can run on its own:
``python -m payments.fakestripe --port 12111``.
"""

from .control import ControlClient
from .server import FakeStripe, Fault, redact_key
from .webhooks import Endpoint, sign

__all__ = ["ControlClient", "Endpoint", "FakeStripe", "Fault", "redact_key", "sign"]
