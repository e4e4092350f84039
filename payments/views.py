"""The Stripe webhook endpoint: verify, store once, queue, answer. Nothing slow here."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .webhook_signature import webhook_secret_matching
from .webhooks import InvalidEvent, webhook_event_parse, webhook_event_receive


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    body = request.body
    try:
        event = webhook_event_parse(body)
    except InvalidEvent:
        return HttpResponseBadRequest("Invalid payload")
    # Stripe signs an event of a connected account (it carries "account") with the Connect
    # endpoint's secret, and the platform's own events with the platform endpoint's secret.
    secret = settings.STRIPE_CONNECT_WEBHOOK_SECRET if event.account else settings.STRIPE_WEBHOOK_SECRET
    header = request.headers.get("Stripe-Signature", "")
    if webhook_secret_matching(payload=body, header=header, secrets=[secret]) is None:
        return HttpResponseBadRequest("Invalid signature")
    webhook_event_receive(event=event)
    return HttpResponse(status=200)
