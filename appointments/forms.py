"""Forms of the calendar, the appointment pages and Settings > Services.

Forms parse and check shape; the services re-check the rules and own the writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from datetime import date as datetime_date  # AppointmentForm has a field called date
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet

from clients.models import Client
from practice.access import SCHEDULING_ROLES
from practice.dates import appointment_date_problem, supported_date_fields
from practice.forms import ModelChoiceField, ModelMultipleChoiceField
from practice.models import Practice, Role, TaxRate, User
from practice.numbers import localise_decimal_fields
from practice.text import single_line_fields

from .models import Appointment, AppointmentService, Attendee, Service
from .services import SERVICE_FIELDS

DURATION_POSITIVE = "Enter a duration of at least 1 minute."
DURATION_TOO_LONG = "An appointment lasts at most 24 hours."
RECURRENCE_NEEDS_END = "Choose an end date or a number of occurrences for a repeating appointment."
RECURRENCE_ONE_END = "Choose an end date or a number of occurrences, not both."
RECURRENCE_UNTIL_BEFORE_START = "The end date is before the first appointment."
RECURRENCE_COUNT_RANGE = "Enter between 2 and 104 occurrences."
SCOPE_REQUIRED = "Choose whether the change applies to this occurrence or to this and the following ones."
DATE_NOT_REAL = "{value} does not exist in {tz} (the clocks change that day). Choose another time."

MAX_DURATION_MINUTES = 24 * 60


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = list(SERVICE_FIELDS)
        labels = {
            "default_duration_minutes": "Default duration (minutes)",
            "payment_type": "How it is paid",
            "procedure_code": "Procedure code (CPT)",
            "copay_kind": "Co-pay",
            "copay_amount": "Co-pay amount",
            "copay_percent": "Co-pay percentage",
        }
        help_texts = {
            "code": "A short code shown on invoices, such as 90837.",
            "procedure_code": "Optional: the insurer's procedure (CPT) code, printed on superbills.",
            "copay_amount": "Only for insurance with a fixed co-pay: what the client pays.",
            "copay_percent": "Only for insurance with a percentage co-pay: the client's share of the price.",
        }

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An archived rate is not offered, unless this service already uses it.
        offered = Q(is_archived=False) | Q(pk=self.instance.tax_rate_id or 0)
        tax_rate = cast(forms.ModelChoiceField, self.fields["tax_rate"])  # the model form's field for a ForeignKey
        tax_rate.queryset = TaxRate.objects.filter(offered, practice=practice)
        tax_rate.empty_label = "No tax"
        self.fields["price"].label = f"Price ({practice.currency})"
        self.fields["copay_kind"].required = False
        # Model validators would duplicate the service's own messages; the service decides.
        for name in ("price", "default_duration_minutes", "copay_amount", "copay_percent"):
            self.fields[name].validators = [
                v for v in self.fields[name].validators if v.__class__.__name__ != "MinValueValidator"
            ]
            field = self.fields[name]
            if isinstance(field, forms.IntegerField):  # DecimalField is one too; these have min_value
                field.min_value = None
                field.widget.attrs.pop("min", None)
        # Typed as the practice writes numbers ("1.000,50" in de_DE), by the one parser.
        localise_decimal_fields(self, ("price", "copay_amount", "copay_percent"), practice.locale)
        single_line_fields(self, ("name", "code"))

    def _post_clean(self) -> None:
        # Skip ModelForm's instance.full_clean(): the service (services.price_list) validates and saves.
        pass


def _user_label(user: User) -> str:
    return user.get_full_name()


class ClinicianChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _user_label(obj)


class ClientsField(ModelMultipleChoiceField):
    def label_from_instance(self, obj: Client) -> str:
        return obj.display_name


def clinicians_for(practice: Practice, viewer: User, role: str) -> QuerySet[User]:
    """Who may be chosen as an appointment's clinician: a clinician chooses only themselves."""
    users = User.objects.filter(
        memberships__practice=practice,
        memberships__is_active=True,
        memberships__role__in=SCHEDULING_ROLES,
    )
    if role == Role.CLINICIAN:
        users = users.filter(pk=viewer.pk)
    return users.order_by("first_name", "last_name", "email").distinct()


def clients_for(
    practice: Practice, viewer: User, role: str, appointment: Appointment | None = None
) -> QuerySet[Client]:
    """Active clients the viewer may book (a clinician: their own), plus whoever already
    attends ``appointment`` so an edit keeps them selectable."""
    offered = Q(status=Client.Status.ACTIVE)
    if role == Role.CLINICIAN:
        offered &= Q(pk__in=Client.objects.filter(practice=practice, clinicians=viewer).values("pk"))
    if appointment is not None:
        offered |= Q(pk__in=Attendee.objects.filter(appointment=appointment).values("client_id"))
    return Client.objects.filter(offered, practice=practice).order_by("last_name", "first_name", "id")


class AppointmentForm(forms.Form):
    clinician = ClinicianChoiceField(queryset=User.objects.none(), empty_label=None)
    clients = ClientsField(
        queryset=Client.objects.none(),
        help_text="Type a name; choose several for a group session.",
        widget=forms.SelectMultiple(attrs={"size": 6, "data-typeahead": "clients"}),
    )
    services = ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 4, "data-typeahead": "services"}),
    )
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = forms.TimeField(label="Start time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", required=False, help_text="Leave empty to use the first service's duration."
    )
    location = forms.ChoiceField(choices=Appointment.Location.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    repeat = forms.ChoiceField(
        label="Repeats",
        choices=[("none", "Does not repeat"), ("weekly", "Weekly"), ("monthly", "Monthly")],
        initial="none",
        required=False,
    )
    interval = forms.IntegerField(
        label="Every",
        min_value=1,
        max_value=12,
        initial=1,
        required=False,
        help_text="Every N weeks (or months): 2 for every other week.",
    )
    until = forms.DateField(
        label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    count = forms.IntegerField(label="Or for this many occurrences", required=False)
    scope = forms.ChoiceField(
        label="Apply the change to",
        choices=[("this", "This occurrence"), ("following", "This and following occurrences")],
        widget=forms.RadioSelect,
        required=False,
    )
    confirm_overlap = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        practice: Practice,
        viewer: User,
        role: str,
        appointment: Appointment | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.appointment = appointment
        cast(ClinicianChoiceField, self.fields["clinician"]).queryset = clinicians_for(practice, viewer, role)
        clients = clients_for(practice, viewer, role, appointment)
        offered = Q(is_archived=False)
        if appointment is not None:
            # Keep what the appointment already has selectable, even if archived since.
            offered |= Q(pk__in=AppointmentService.objects.filter(appointment=appointment).values("service_id"))
        services = Service.objects.filter(offered, practice=practice)
        if appointment is not None:
            if appointment.series_id is None:
                del self.fields["scope"]
            for name in ("repeat", "interval", "until", "count"):
                del self.fields[name]
        else:
            del self.fields["scope"]
        cast(ClientsField, self.fields["clients"]).queryset = clients
        cast(forms.ModelMultipleChoiceField, self.fields["services"]).queryset = services.order_by("name")

    def clean_date(self) -> datetime_date:
        value: datetime_date = self.cleaned_data["date"]
        if problem := appointment_date_problem(value, today=self.practice.local_today()):
            raise forms.ValidationError(problem)
        return value

    def clean_until(self) -> datetime_date | None:
        value: datetime_date | None = self.cleaned_data.get("until")
        if value is not None and (problem := appointment_date_problem(value, today=self.practice.local_today())):
            raise forms.ValidationError(problem)
        return value

    def clean_duration_minutes(self) -> int | None:
        value = self.cleaned_data.get("duration_minutes")
        if value is None:
            return None
        if value < 1:
            raise forms.ValidationError(DURATION_POSITIVE)
        if value > MAX_DURATION_MINUTES:
            raise forms.ValidationError(DURATION_TOO_LONG)
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; its declared type allows None
        if "scope" in self.fields and not data.get("scope"):
            self.add_error("scope", SCOPE_REQUIRED)
        services = data.get("services")
        if data.get("duration_minutes") is None and services and "duration_minutes" not in self.errors:
            first = sorted(services, key=lambda s: s.name)[0]
            data["duration_minutes"] = first.default_duration_minutes
        day, at = data.get("date"), data.get("start_time")
        if day and at:
            tz = self.practice.tzinfo
            start = datetime.combine(day, at, tzinfo=tz)
            # A wall time inside a spring-forward gap does not exist; zoneinfo would quietly
            # shift it, so refuse it instead.
            roundtrip = start.astimezone(UTC).astimezone(tz)
            if (roundtrip.hour, roundtrip.minute) != (at.hour, at.minute) or roundtrip.date() != day:
                self.add_error("start_time", DATE_NOT_REAL.format(value=f"{day} {at:%H:%M}", tz=self.practice.timezone))
            data["start"] = start
        if "repeat" in self.fields and data.get("repeat") in ("weekly", "monthly"):
            until, count = data.get("until"), data.get("count")
            if until is None and count is None:
                self.add_error("until", RECURRENCE_NEEDS_END)
            elif until is not None and count is not None:
                self.add_error("count", RECURRENCE_ONE_END)
            elif count is not None and not 2 <= count <= 104:
                self.add_error("count", RECURRENCE_COUNT_RANGE)
            elif until is not None and day and until < day:
                self.add_error("until", RECURRENCE_UNTIL_BEFORE_START)
        return data

    def overlap_token(self) -> str:
        """What the user confirmed: the same clinician, start and length as now, and the
        same repetition or scope, since the warning covered every occurrence it would book."""
        data = self.cleaned_data
        clinician = data.get("clinician")
        start = data.get("start")
        parts = [
            clinician.pk if clinician else "",
            start.isoformat() if start else "",
            data.get("duration_minutes"),
            *(data.get(name) or "" for name in ("repeat", "interval", "until", "count", "scope")),
        ]
        return "|".join(str(part) for part in parts)

    @property
    def end(self) -> datetime:
        # Elapsed time, not wall-clock time: add in UTC so a DST change inside the
        # appointment does not change its length.
        start = self.cleaned_data["start"].astimezone(UTC)
        return start + timedelta(minutes=self.cleaned_data["duration_minutes"])


def appointment_initial(appointment: Appointment, tz: Any) -> dict[str, Any]:
    local = appointment.start.astimezone(tz)
    return {
        "clinician": appointment.clinician_id,
        "clients": [a.client_id for a in appointment.attendees.all()],
        "services": [s.service_id for s in appointment.service_links.all()],
        "date": local.date(),
        "start_time": local.time().replace(second=0, microsecond=0),
        "duration_minutes": appointment.duration_minutes,
        "location": appointment.location,
        "note": appointment.note,
        "scope": "this",
    }


def new_appointment_initial(
    practice: Practice, viewer: User, role: str, day: date | None, at: time | None
) -> dict[str, Any]:
    initial: dict[str, Any] = {"date": day or practice.local_today(), "location": Appointment.Location.IN_PERSON}
    if at is not None:
        initial["start_time"] = at
    # The signed-in clinician books for themselves unless they choose a colleague (an
    # owner or admin who sees no one is not offered themselves and gets the first choice).
    initial["clinician"] = viewer.pk
    return initial


class CalendarFilterForm(forms.Form):
    view = forms.ChoiceField(choices=[("week", "Week"), ("day", "Day")], required=False)
    date = forms.DateField(required=False)
    clinician = forms.IntegerField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        supported_date_fields(self)
