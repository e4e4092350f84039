"""The session's scan of every Stripe request the app made (tests/stripe_requests.py): it
catches a POST without a row-derived Idempotency-Key and a service name, clinician name or
note anywhere in a request's parameters, and leaves the tests' own probing of the fake alone."""

from __future__ import annotations

import pytest

from payments import gateway
from payments.fakestripe import redact_key
from tests import stripe_requests
from tests.factories import ClientFactory, MembershipFactory, ServiceFactory, UserFactory, make_appointment
from tests.stripe_requests import CLINICIAN, NOTE, SERVICE, Logged, RequestStore, violations

HARNESS = redact_key(stripe_requests.HARNESS_KEY)
APP = redact_key("sk_test_fake_practica")


def post(params, key="checkout:12:session", api_key=APP, path="/v1/checkout/sessions"):
    return Logged(
        "tests/x.py::t", {"method": "POST", "path": path, "params": params, "idempotency_key": key, "api_key": api_key}
    )


SENSITIVE = {
    SERVICE: {"Individual therapy"},
    CLINICIAN: {"Clara Moana"},
    NOTE: {"Discussed the divorce at length"},
}


def test_clean_requests_pass():
    clean = [
        post({"line_items": [{"price_data": {"product_data": {"name": "Invoice INV-0001"}}}]}),
        Logged("t", {"method": "GET", "path": "/v1/payment_intents/pi_1", "params": {}, "api_key": APP}),
    ]
    assert violations(clean, SENSITIVE, harness_keys=[HARNESS]) == []


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (post({}, key=None), "has no Idempotency-Key"),
        (post({}, key="0b9b4a8e-5c1f-4f39-9d7e-2f6e1e1f5c3a"), "not one derived from a local row"),
        (post({}, key="whatever"), "not one derived from a local row"),
        (
            post({"line_items": [{"price_data": {"product_data": {"name": "Invoice 7: individual THERAPY"}}}]}),
            "sends a service name: 'Individual therapy'",
        ),
        (post({"metadata": {"clinician": "Clara Moana"}}), "sends a clinician name: 'Clara Moana'"),
        (post({"description": "Discussed the divorce at length."}), "sends a note"),
        (post({"metadata": {"Clara Moana": "1"}}), "sends a clinician name"),
    ],
)
def test_a_planted_violation_is_reported(request_, problem):
    (found,) = violations([request_], SENSITIVE, harness_keys=[HARNESS])
    assert found.startswith("tests/x.py::t: POST /v1/checkout/sessions") and problem in found


def test_the_tests_own_probes_of_the_fake_are_not_the_apps():
    probe = post({"metadata": {"clinician": "Clara Moana"}}, key=None, api_key=HARNESS)
    assert violations([probe], SENSITIVE, harness_keys=[HARNESS]) == []


@pytest.mark.django_db
def test_the_names_and_notes_are_learnt_as_the_tests_save_them(tenant):
    clinician = UserFactory(first_name="Tamati", last_name="Ngata")
    MembershipFactory(user=clinician, practice=tenant.practice, role="clinician")
    # An owner of a name no other test gives (the store is the session's: a test that
    # made the tenant's owner a clinician elsewhere would have taught it that name)
    owner = UserFactory(first_name="Wiremu", last_name="Karaka")
    MembershipFactory(user=owner, practice=tenant.practice, role="owner")
    service = ServiceFactory(practice=tenant.practice, name="Sandplay therapy")
    ana = ClientFactory(practice=tenant.practice, clinicians=[tenant.clinician])
    appointment = make_appointment(tenant.practice, tenant.owner, tenant.clinician, [ana], [service])
    appointment.note = "Mentioned a new medication"
    appointment.save(update_fields=["note"])

    learnt = stripe_requests.STORE.values()

    assert service.name in learnt[SERVICE]
    assert {"Tamati Ngata", tenant.clinician.get_full_name()} <= learnt[CLINICIAN]
    assert "Mentioned a new medication" in learnt[NOTE]
    assert owner.get_full_name() not in learnt[CLINICIAN]


@pytest.mark.django_db
def test_a_request_the_app_sends_with_a_service_name_is_caught_in_the_fakes_log(app_on_fake, tenant):
    service = ServiceFactory(practice=tenant.practice, name="Couples counselling")
    store = RequestStore()
    store.note(SERVICE, service.name)

    # The app's client (its key, through the gateway) sends a service name: planted here
    gateway.client().v1.customers.create({"description": f"{service.name} for Ana"}, {"idempotency_key": "t:1:x"})
    store.collect(app_on_fake.control.requests(), "planted")
    # (and taken out of the fake's log, so the session's own scan does not fail on it)
    app_on_fake.control.call("DELETE", "requests")

    (found,) = violations(store.requests, store.values(), harness_keys=[HARNESS])
    assert found == "planted: POST /v1/customers sends a service name: 'Couples counselling'"
