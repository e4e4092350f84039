from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator

from .dates import validate_supported_date
from .models import TIMEZONE_CHOICES, Practice, Role
from .text import EMAIL_MAX_LENGTH, single_line_fields

SIGN_IN_FAILED = "That email and password do not match an account. Check them and try again."


class ListedChoiceIterator(ModelChoiceIterator):
    """A select's options read with one plain query. Django's own reads them with
    ``queryset.iterator()``, which on PostgreSQL opens a server-side cursor (DECLARE, FETCH,
    CLOSE): 2 ms more than the query itself for the clinician filter of every list page,
    to save memory on a list that is printed whole anyway."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ModelChoiceField(forms.ModelChoiceField):
    """Django's ModelChoiceField, its options read by ListedChoiceIterator."""

    iterator = ListedChoiceIterator


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's ModelMultipleChoiceField, its options read by ListedChoiceIterator."""

    iterator = ListedChoiceIterator


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": SIGN_IN_FAILED,
        # An inactive account gets the same words: nothing hints at which accounts exist.
        "inactive": SIGN_IN_FAILED,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True})

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}", "autofocus": True}
        ),
    )


DAY_HOURS_ORDER = "The calendar day must end after it starts."


class PracticeSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)

    class Meta:
        model = Practice
        fields = [
            "name",
            "timezone",
            "address",
            "phone",
            "email",
            "session_idle_minutes",
            "day_start_hour",
            "day_end_hour",
        ]
        labels = {"session_idle_minutes": "Sign out idle staff after (minutes)"}
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        single_line_fields(self, ("name", "phone"))
        # Left out of a post (an older form), the calendar hours stay as they are.
        for name in ("day_start_hour", "day_end_hour"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("day_start_hour", "day_end_hour"):
            if data.get(name) is None and name not in self.errors:
                data[name] = getattr(self.instance, name)
        start, end = data.get("day_start_hour"), data.get("day_end_hour")
        if start is not None and end is not None and start >= end:
            self.add_error("day_end_hour", DAY_HOURS_ORDER)
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=EMAIL_MAX_LENGTH)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CLINICIAN)


class StaffProfileForm(forms.Form):
    licence_number = forms.CharField(max_length=40, required=False, help_text="The clinician's professional licence.")
    npi = forms.CharField(
        label="NPI", max_length=10, required=False, help_text="National Provider Identifier: 10 digits."
    )
    tax_id = forms.CharField(
        label="Tax id", max_length=40, required=False, help_text="If the clinician bills under their own."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        single_line_fields(self, ("licence_number", "npi", "tax_id"))


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class InviteAcceptForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        single_line_fields(self, ("first_name", "last_name"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            from .models import User

            candidate = User(
                email=self.email, first_name=data.get("first_name", ""), last_name=data.get("last_name", "")
            )
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False)
    actor = forms.CharField(required=False, label="Who")
    # Outside the supported range a day's end in UTC overflows (a 500); it is a field error.
    date_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_supported_date]
    )
    date_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_supported_date]
    )


def apply_service_errors(form: forms.BaseForm, exc: ValidationError, *, aliases: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on a form: on the named field when the form has it
    (``aliases`` maps a service's key to a form field), otherwise on the form itself."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        field = (aliases or {}).get(key, key)
        for message in errors:
            form.add_error(field if field in form.fields else None, message)
