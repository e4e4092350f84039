"""The Billing documents export form: a period, whose documents (every client or a chosen
few), which documents and in what format."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from clients.models import Client
from practice.forms import ModelMultipleChoiceField
from practice.models import Practice

from ..documents.export import Format, range_check
from ..documents.statement import default_period

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClientsField(ModelMultipleChoiceField):
    def label_from_instance(self, obj: Client) -> str:
        return obj.display_name


class ExportForm(forms.Form):
    start = forms.DateField(label="From", widget=DATE_WIDGET)
    end = forms.DateField(label="To", widget=DATE_WIDGET)
    clients = ClientsField(
        queryset=Client.objects.none(),
        required=False,
        help_text="Leave empty for every client; type a name to choose a few.",
        widget=forms.SelectMultiple(attrs={"size": 6, "data-typeahead": "clients"}),
    )
    receipts = forms.BooleanField(
        label="Also a receipt for each paid invoice",
        required=False,
        help_text="Invoices and credit invoices issued in the period are always included.",
    )
    format = forms.ChoiceField(label="Format", choices=Format.CHOICES, initial=Format.ZIP, widget=forms.RadioSelect)

    def __init__(self, *args: Any, practice: Practice, today: date, client: Client | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        start, _end = default_period(today)
        self.fields["start"].initial = start
        self.fields["end"].initial = today
        self.client = client
        if client is not None:
            # The client's own Billing tab: their documents only.
            del self.fields["clients"]
        else:
            field = cast(ClientsField, self.fields["clients"])
            field.queryset = Client.objects.filter(practice=practice).order_by("last_name", "first_name", "id")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            try:
                range_check(start, end)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data

    def client_ids(self) -> tuple[int, ...] | None:
        if self.client is not None:
            return (self.client.pk,)
        chosen = self.cleaned_data.get("clients")
        return tuple(sorted(c.pk for c in chosen)) if chosen else None
