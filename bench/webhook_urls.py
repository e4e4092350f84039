"""The project's URLs and the floor of webhook ingestion: a bare view that verifies the
signature and does nothing else."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.webhook_signature import webhook_secret_matching
from practice.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def signature_only(request: HttpRequest) -> HttpResponse:
    header = request.headers.get("Stripe-Signature", "")
    if webhook_secret_matching(payload=request.body, header=header, secrets=[settings.STRIPE_CONNECT_WEBHOOK_SECRET]):
        return HttpResponse(status=200)
    return HttpResponseBadRequest("Invalid signature")


urlpatterns = [path("bench/webhook-floor/", signature_only), *project_urlpatterns]
