"""The period (and, to send, the recipient) of a client's statement or superbill."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ..documents.statement import default_period, period_check

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=DATE_WIDGET)
    end = forms.DateField(label="To", widget=DATE_WIDGET)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        start, end = default_period(today)
        self.fields["start"].initial = start
        self.fields["end"].initial = end

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            try:
                period_check(start, end, today=self.today)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data


class SendStatementForm(PeriodForm):
    to = forms.ChoiceField(label="Send to")
    # Names this send: the same form posted twice queues one email.
    send_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, recipients: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)
        to.choices = [(address, f"{label}: {address}") for address, label in recipients]
        if recipients:
            to.initial = recipients[0][0]
        self.fields["send_key"].initial = uuid.uuid4()


PORTAL_CLIENT_UNKNOWN = "Choose one of the people you see here."


class PortalPeriodForm(PeriodForm):
    """The portal's Documents page: a period, and for a payer who pays for several clients,
    whose statement or superbill. The choices are only the portal session's clients, so an
    id of anyone else is refused like one that does not exist."""

    client = forms.TypedChoiceField(label="For", coerce=int, required=False)
    field_order = ["client", "start", "end"]

    def __init__(self, *args: Any, clients: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["client"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = clients
        field.error_messages["invalid_choice"] = PORTAL_CLIENT_UNKNOWN
        if len(clients) > 1:
            field.required = True
            field.initial = clients[0][0]
        else:
            del self.fields["client"]
        self.default_client = clients[0][0]

    def chosen_client(self) -> int:
        return int(self.cleaned_data.get("client") or self.default_client)
