"""The form of Settings > Invoice creation."""

from __future__ import annotations

from typing import Any

from django import forms

from ..models import InvoiceCreationSetting
from ..services.invoice_creation import WEEKDAYS


class InvoiceCreationForm(forms.Form):
    cadence = forms.ChoiceField(
        label="Invoice creation",
        choices=InvoiceCreationSetting.Cadence.choices,
        widget=forms.RadioSelect,
        help_text="At the end of the run day, in the practice's time zone, each client's uninvoiced items "
        "up to that day go onto one invoice.",
    )
    weekday = forms.TypedChoiceField(
        label="Weekday (for Weekly)",
        choices=[("", "—"), *((str(index), name) for index, name in enumerate(WEEKDAYS))],
        coerce=int,
        empty_value=None,
        required=False,
    )
    send_automatically = forms.BooleanField(
        label="Send automatically",
        required=False,
        help_text="Issue and email each new invoice. Unticked, new invoices are left as drafts for you to review.",
    )

    def __init__(self, *args: Any, setting: InvoiceCreationSetting, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"cadence": setting.cadence, "weekday": setting.weekday, "send_automatically": setting.send_automatically},
        )
        super().__init__(*args, **kwargs)
