"""The form of Settings > Invoice reminders: one small form per rule in a formset, each
checked with billing.reminders.rule_problems (the service checks again before saving)."""

from __future__ import annotations

from typing import Any

from django import forms

from practice.text import single_line_fields

from ..models import ReminderRule
from ..reminders import RuleInput, rule_problems


class ReminderRuleForm(forms.Form):
    rule_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    enabled = forms.BooleanField(required=False, label="On")
    kind = forms.ChoiceField(label="When", choices=ReminderRule.Kind.choices)
    # Not min/max bounded here: billing.reminders says what is wrong in the page's words.
    days = forms.IntegerField(
        required=False,
        label="Days",
        help_text="Before or after the due date; for a repeat, the days between reminders.",
    )
    repeat_times = forms.IntegerField(
        required=False, label="Repeat up to (times)", help_text="Only for a repeating reminder."
    )
    subject = forms.CharField(required=False, label="Subject")
    message = forms.CharField(required=False, label="Message", widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        single_line_fields(self, ("subject",))

    def has_changed(self) -> bool:
        # The blank row for a new rule posts a "When" choice whatever one does: it counts
        # as filled in only once something is typed in it.
        typed = ("days", "repeat_times", "subject", "message")
        return super().has_changed() and any(str(self.data.get(self.add_prefix(n), "")).strip() for n in typed)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if any(name in self.errors for name in ("kind", "days", "repeat_times")):
            return data
        for field, message in rule_problems(self.rule_input()).items():
            self.add_error(field, message)
        return data

    def rule_input(self) -> RuleInput:
        data = self.cleaned_data
        return RuleInput(
            kind=data.get("kind") or "",
            days=data.get("days"),
            repeat_times=data.get("repeat_times"),
            enabled=bool(data.get("enabled")),
            subject=data.get("subject") or "",
            message=data.get("message") or "",
            rule_id=data.get("rule_id"),
        )

    @staticmethod
    def initial_of(rule: ReminderRule | RuleInput) -> dict[str, Any]:
        rule_id = rule.pk if isinstance(rule, ReminderRule) else rule.rule_id
        return {
            "rule_id": rule_id,
            "enabled": rule.enabled,
            "kind": rule.kind,
            "days": rule.days if rule.kind != ReminderRule.Kind.ON_DUE else None,
            "repeat_times": rule.repeat_times,
            "subject": rule.subject,
            "message": rule.message,
        }


ReminderRuleFormSet = forms.formset_factory(ReminderRuleForm, extra=1, max_num=20, absolute_max=20)


def rules_formset(data: Any, rules: list[ReminderRule] | list[RuleInput]) -> forms.BaseFormSet:  # type: ignore[type-arg]
    return ReminderRuleFormSet(data, initial=[ReminderRuleForm.initial_of(rule) for rule in rules], prefix="rules")


def rules_to_save(formset: forms.BaseFormSet) -> list[tuple[ReminderRuleForm, RuleInput]]:  # type: ignore[type-arg]
    """The rules a valid formset asks to save, with their forms: every shown rule, and the
    blank row only when something was entered in it."""
    chosen = []
    for index, form in enumerate(formset.forms):
        if index >= formset.initial_form_count() and not form.has_changed():
            continue
        chosen.append((form, form.rule_input()))
    return chosen
