"""The form of Settings > Invoice template. It parses and checks shape; the logo's
content is checked by practice.images inside the service (practice.services
.invoice_template_update), never by its name or the browser's content type."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from practice.models import InvoiceTemplate
from practice.services import INVOICE_TEMPLATE_FIELDS
from practice.text import single_line_fields

THEME_COLOUR_RE = re.compile(r"#[0-9a-f]{6}")
THEME_COLOUR_INVALID = "Enter a colour such as #1f5f8b."


class InvoiceTemplateForm(forms.ModelForm):
    # No max_length: anything that is not #rrggbb gets the one message below.
    theme_colour = forms.CharField(label="Theme colour", widget=forms.TextInput(attrs={"type": "color"}))
    logo = forms.FileField(
        required=False,
        label="Logo",
        help_text="PNG or JPEG, at most 2 MB. It is resized to fit the top of the invoice.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = InvoiceTemplate
        fields = list(INVOICE_TEMPLATE_FIELDS)
        labels = {
            "layout": "Layout",
            "display_name": "Practice name",
            "address": "Address",
            "tax_id": "Tax id",
            "footer": "Footer text",
            "payment_instructions": "Payment instructions",
        }
        help_texts = {
            "display_name": "Leave empty to print the practice's name.",
            "address": "Leave empty to print the billing address from Billing details.",
            "tax_id": "Leave empty to print the tax id from Billing details.",
            "footer": "Printed at the bottom of every invoice, credit invoice and receipt.",
            "payment_instructions": "For clients who pay by bank transfer or cheque: account details, "
            "payee name, where to send a cheque. Shown on invoices that are still to be paid.",
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "footer": forms.Textarea(attrs={"rows": 2}),
            "payment_instructions": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["logo"].widget = forms.FileInput(attrs={"accept": "image/png,image/jpeg"})
        if not (self.instance and self.instance.logo):
            del self.fields["remove_logo"]
        single_line_fields(self, ("display_name", "tax_id"))

    def clean_theme_colour(self) -> str:
        colour = str(self.cleaned_data["theme_colour"]).strip().lower()
        if not THEME_COLOUR_RE.fullmatch(colour):
            raise forms.ValidationError(THEME_COLOUR_INVALID)
        return colour

    def _post_clean(self) -> None:
        # The service sets the fields and runs the model's checks under its lock.
        pass

    def template_for_preview(self, saved: InvoiceTemplate) -> InvoiceTemplate:
        """An unsaved copy of ``saved`` with every field that parsed applied: what the
        preview shows while the page is being edited (nothing is written)."""
        preview = InvoiceTemplate(practice=saved.practice, logo=saved.logo)
        for field in INVOICE_TEMPLATE_FIELDS:
            value = self.cleaned_data.get(field) if field not in self.errors else None
            setattr(preview, field, value if value is not None else getattr(saved, field))
        preview.practice = saved.practice
        return preview
