"""Objects of the other practice for ids that app URLs take (used by test_tenancy_urls).

Each app adds the kwarg names of its own URLs here as it grows.
"""

from __future__ import annotations


def extra_foreign_ids(other_tenant) -> dict[str, int]:
    ids: dict[str, int] = {}
    ids.update(_clients(other_tenant))
    ids.update(_appointments(other_tenant))
    ids.update(_billing(other_tenant))
    ids.update(_packages(other_tenant))
    return ids


def _clients(other_tenant) -> dict[str, int]:
    from tests.factories import ClientFactory, PayerFactory

    payer = PayerFactory(practice=other_tenant.practice)
    client = ClientFactory(practice=other_tenant.practice, payer=payer, clinicians=[other_tenant.clinician])
    return {"client_id": client.pk}


def _appointments(other_tenant) -> dict[str, int]:
    from appointments.models import BillingDetail
    from practice.models import TaxRate
    from tests.factories import ClientFactory, ServiceFactory, make_appointment, past_start

    practice = other_tenant.practice
    tax_rate = TaxRate.objects.create(practice=practice, name="Twin GST", percent="15")
    service = ServiceFactory(practice=practice, tax_rate=tax_rate)
    client = ClientFactory(practice=practice)
    appointment = make_appointment(
        practice, other_tenant.owner, other_tenant.clinician, [client], [service], start=past_start(practice)
    )
    return {
        "appointment_id": appointment.pk,
        "service_id": service.pk,
        "tax_rate_id": tax_rate.pk,
        "detail_id": BillingDetail.objects.get(appointment=appointment).pk,
    }


def _billing(other_tenant) -> dict[str, int]:
    from decimal import Decimal

    from billing import services
    from tests.factories import ClientFactory

    practice = other_tenant.practice
    client = ClientFactory(practice=practice)
    invoice = services.invoice_create(
        practice=practice,
        client=client,
        actor=other_tenant.owner,
        lines=[services.LineInput(description="Twin session", unit_price=Decimal("100"))],
        issue=True,
    )
    payment = services.payment_record_manual(
        practice=practice,
        client=client,
        actor=other_tenant.owner,
        amount=Decimal("40"),
        received_on=practice.local_today(),
        method="cash",
    ).payment
    return {"invoice_id": invoice.pk, "payment_id": payment.pk}


def _packages(other_tenant) -> dict[str, int]:
    from decimal import Decimal

    from billing.models import Package
    from billing.services import package_sell
    from tests.factories import ClientFactory, ServiceFactory

    practice = other_tenant.practice
    package = Package.objects.create(
        practice=practice, name="Twin 5", service=ServiceFactory(practice=practice), sessions=5, price=Decimal("500")
    )
    client = ClientFactory(practice=practice)
    purchase = package_sell(practice=practice, client=client, package=package, actor=other_tenant.owner)
    return {"package_id": package.pk, "purchase_id": purchase.pk}
