"""Forms of packages: Settings > Packages, selling one and refunding unused sessions. They
parse and give field errors; the services check the same rules again before anything is
written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q

from appointments.models import Service
from practice.forms import ModelChoiceField
from practice.models import Practice
from practice.numbers import set_form_locale
from practice.text import single_line_fields

from .. import inputs
from ..models import Package
from ..services import PACKAGE_REFUND_TOO_MANY
from .numbers import PlainDecimalField

PRICE_TOO_FINE = "Use no more decimal places than the currency has (for example 120.00)."
PRICE_NEGATIVE = inputs.PRICE_NEGATIVE


class ServiceChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: Service) -> str:
        return obj.name


class PackageForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="As the client sees it on the invoice, e.g. “10 sessions”.")
    service = ServiceChoiceField(queryset=Service.objects.none(), help_text="Sessions of this service draw it down.")
    sessions = forms.IntegerField(min_value=1, max_value=500)
    price = PlainDecimalField(max_digits=12, decimal_places=3, help_text="For the whole package.")
    valid_days = forms.IntegerField(
        label="Valid for (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty if it never expires.",
    )

    def __init__(self, *args: Any, practice: Practice, package: Package | None = None, **kwargs: Any) -> None:
        if package is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": package.name,
                "service": package.service_id,
                "sessions": package.sessions,
                "price": package.price.normalize() if package.price == package.price.to_integral() else package.price,
                "valid_days": package.valid_days,
            }
        super().__init__(*args, **kwargs)
        self.practice = practice
        set_form_locale(self, practice.locale)
        single_line_fields(self, ("name",))
        services = Service.objects.filter(practice=practice)
        if package is None:
            services = services.filter(is_archived=False)
        else:
            # Editing keeps the package's own service even if it was archived since.
            services = services.filter(Q(is_archived=False) | Q(pk=package.service_id))
        self.fields["service"].queryset = services.order_by("name", "pk")  # type: ignore[attr-defined]

    def clean_price(self) -> Decimal:
        price: Decimal = self.cleaned_data["price"]
        if price < 0:
            raise forms.ValidationError(PRICE_NEGATIVE)
        if not inputs.fits_currency(price, self.practice.currency):
            raise forms.ValidationError(PRICE_TOO_FINE)
        return price


class PackageSellForm(forms.Form):
    package = ModelChoiceField(queryset=Package.objects.none(), empty_label=None)
    issue = forms.TypedChoiceField(
        label="Invoice",
        choices=[("1", "Create and issue the invoice"), ("0", "Create a draft invoice")],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = (  # type: ignore[attr-defined]
            Package.objects.filter(practice=practice, is_archived=False).select_related("service").order_by("name")
        )


class PackageRefundForm(forms.Form):
    sessions = forms.IntegerField(label="Sessions to refund", min_value=1)
    reason = forms.CharField(max_length=255, initial="Unused package sessions")

    def __init__(self, *args: Any, sessions_left: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions_left = sessions_left
        self.fields["sessions"].widget.attrs["max"] = sessions_left
        self.fields["sessions"].initial = sessions_left
        self.fields["sessions"].help_text = f"Up to {sessions_left}."

    def clean_sessions(self) -> int:
        sessions: int = self.cleaned_data["sessions"]
        if sessions > self.sessions_left:
            raise forms.ValidationError(PACKAGE_REFUND_TOO_MANY)
        return sessions
