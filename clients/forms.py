"""Forms of the clients pages. They parse and give friendly field errors; the services
check the same rules again before anything is written."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from practice.forms import ModelChoiceField, ModelMultipleChoiceField
from practice.models import Membership, Practice, User
from practice.text import EMAIL_MAX_LENGTH, single_line_fields

from .models import Client, Payer
from .selectors import STATUS_ALL, clinicians_for_practice, payers_for_practice
from .services import CLINICIAN_NOT_IN_PRACTICE, DATE_OF_BIRTH_IN_FUTURE, PAYER_NOT_IN_PRACTICE, diagnosis_codes_parse


class ClinicianChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


class PayerChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: Payer) -> str:
        return f"{obj.first_name} {obj.last_name} <{obj.email}>"


class ClientForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    preferred_name = forms.CharField(
        max_length=100, required=False, help_text="Shown instead of the first name, if given."
    )
    email = forms.EmailField(required=False, max_length=EMAIL_MAX_LENGTH)
    phone = forms.CharField(max_length=40, required=False)
    date_of_birth = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    diagnosis_codes = forms.CharField(
        label="Diagnosis codes (ICD-10)",
        max_length=200,
        required=False,
        help_text="Printed on superbills. Separate codes with commas, for example F41.1, F32.0.",
    )
    clinicians = ClinicianChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": CLINICIAN_NOT_IN_PRACTICE, "invalid_pk_value": CLINICIAN_NOT_IN_PRACTICE},
    )
    payer = PayerChoiceField(
        queryset=Payer.objects.none(),
        required=False,
        empty_label="No payer: invoices go to the client",
        help_text="A parent, guardian or partner who receives the invoices and pays.",
        error_messages={"invalid_choice": PAYER_NOT_IN_PRACTICE},
    )

    # Only on the client's Settings tab, for the roles that bill (``with_reminders``).
    reminders_excluded = forms.BooleanField(
        required=False,
        label="Exclude from invoice reminders",
        help_text="No automatic reminder emails about this client's invoices (Send reminder still works).",
    )

    def __init__(
        self, *args: Any, practice: Practice, membership: Membership, with_reminders: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not with_reminders:
            del self.fields["reminders_excluded"]
        self.practice = practice
        single_line_fields(self, ("first_name", "last_name", "preferred_name", "phone"))
        self.fields["clinicians"].queryset = clinicians_for_practice(practice)  # type: ignore[attr-defined]
        # A clinician chooses among the payers they may see (their clients' payers).
        self.fields["payer"].queryset = payers_for_practice(practice, membership)  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, client: Client) -> dict[str, Any]:
        return {
            "first_name": client.first_name,
            "last_name": client.last_name,
            "preferred_name": client.preferred_name,
            "email": client.email,
            "phone": client.phone,
            "date_of_birth": client.date_of_birth,
            "address": client.address,
            "diagnosis_codes": client.diagnosis_codes,
            "clinicians": [u.pk for u in client.clinicians.all()],
            "payer": client.payer_id,
            "reminders_excluded": client.reminders_excluded,
        }

    def clean_diagnosis_codes(self) -> str:
        try:
            return diagnosis_codes_parse(self.cleaned_data.get("diagnosis_codes"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["diagnosis_codes"]) from None

    def clean_date_of_birth(self) -> date | None:
        value: date | None = self.cleaned_data.get("date_of_birth")
        if value is not None and value > self.practice.local_today():
            raise forms.ValidationError(DATE_OF_BIRTH_IN_FUTURE)
        return value


class PayerForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField(
        max_length=EMAIL_MAX_LENGTH, help_text="Invoices, statements and receipts go to this address."
    )
    phone = forms.CharField(max_length=40, required=False)
    relationship = forms.ChoiceField(choices=Payer.Relationship.choices, label="Relationship to the client")
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        single_line_fields(self, ("first_name", "last_name", "phone"))

    @classmethod
    def initial_for(cls, payer: Payer) -> dict[str, Any]:
        return {f: getattr(payer, f) for f in ("first_name", "last_name", "email", "phone", "relationship", "address")}


STATUS_CHOICES = [(Client.Status.ACTIVE, "Active"), (Client.Status.ARCHIVED, "Archived"), (STATUS_ALL, "All")]


class ClientFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email or phone", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    clinician = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, practice: Practice, show_clinician: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if show_clinician:
            self.fields["clinician"].choices = [("", "Any clinician")] + [  # type: ignore[attr-defined]
                (u.pk, u.get_full_name()) for u in clinicians_for_practice(practice)
            ]
        else:
            del self.fields["clinician"]

    def filters(self) -> dict[str, Any]:
        """The selector's keyword arguments; a bad value is ignored rather than an error."""
        self.is_valid()
        data = self.cleaned_data  # holds the fields that were valid
        return {
            "q": (data.get("q") or "").strip(),
            "status": data.get("status") or Client.Status.ACTIVE,
            "clinician_id": data.get("clinician"),
        }


class PortalProfileForm(forms.Form):
    """The portal's Profile: the signed-in client's (or payer's) own name, phone and email.
    A new email is confirmed by a link before it is used (clients.profile)."""

    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, label="Last name")
    phone = forms.CharField(max_length=40, required=False, label="Phone")
    email = forms.EmailField(
        max_length=EMAIL_MAX_LENGTH,
        label="Email",
        help_text="You sign in with it. A new address is used once you open the link we send to it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        single_line_fields(self, ("first_name", "last_name", "phone"))
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "type": "tel"})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
