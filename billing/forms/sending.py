"""The Send and Send payment link forms of an invoice."""

from __future__ import annotations

from typing import Any

from django import forms

from ..services.sending import Recipient

CONFIRM_LABEL = "I have checked this is the client's contact"
CONFIRM_REQUIRED = "Tick the box to confirm the address is the client's (or their payer's) contact."


class InvoiceSendForm(forms.Form):
    recipient = forms.ChoiceField(label="To", widget=forms.RadioSelect)
    subject = forms.CharField(max_length=200)
    message = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))
    include_link = forms.BooleanField(
        required=False,
        initial=True,
        label="Include the payment link",
        help_text="A link that opens the invoice without signing in.",
    )
    confirm = forms.BooleanField(label=CONFIRM_LABEL, error_messages={"required": CONFIRM_REQUIRED})

    def __init__(self, *args: Any, recipients: list[Recipient], link_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recipient = self.fields["recipient"]
        assert isinstance(recipient, forms.ChoiceField)
        recipient.choices = [(r.choice, r.label) for r in recipients]
        if recipients:
            self.fields["recipient"].initial = recipients[0].choice
        if link_only:
            del self.fields["include_link"]
