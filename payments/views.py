"""The Stripe webhook endpoints: verify, store once, queue, answer. Nothing slow here."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .own_keys import own_webhook_endpoint
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


@csrf_exempt
@require_POST
def stripe_webhook_practice(request: HttpRequest, token: str) -> HttpResponse:
    """The endpoint of a practice that uses its own Stripe keys. Its account's events carry
    no ``account`` (it is no platform's connected account): the path names the practice, the
    event is verified with that practice's signing secret only, and it is stored as an
    event of the practice's account, so the same handlers take it with the practice known."""
    endpoint = own_webhook_endpoint(token)
    if endpoint is None:
        raise Http404
    body = request.body
    try:
        event = webhook_event_parse(body)
    except InvalidEvent:
        return HttpResponseBadRequest("Invalid payload")
    header = request.headers.get("Stripe-Signature", "")
    if not endpoint.secret or webhook_secret_matching(payload=body, header=header, secrets=[endpoint.secret]) is None:
        return HttpResponseBadRequest("Invalid signature")
    if event.account and event.account != endpoint.account_id:
        # Another account's event (this endpoint set up as a Connect endpoint): not ours to handle.
        return HttpResponseBadRequest("Not this practice's account")
    webhook_event_receive(event=replace(event, account=endpoint.account_id))
    return HttpResponse(status=200)
