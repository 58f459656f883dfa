"""The choice at the top of every report: which networks, which months."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from mdtcare.reports.months import month_range


class MonthRangeForm(forms.Form):
    """Networks (of those the user may report on) and a range of months,
    named ``network``, ``from`` and ``to`` in the address as in the API.
    The networks are checked by the access rules before the form is; the
    form checks the months and gives back ``first`` and ``last``."""

    network = forms.MultipleChoiceField(
        label="Networks",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means all of yours.",
    )

    def __init__(
        self,
        data,
        *,
        networks,
        default_months: int = 12,
        month_labels: tuple[str, str] = ("From month", "To month"),
    ):
        super().__init__(data)
        self.default_months = default_months
        self.fields["network"].choices = [(network.code, network.name) for network in networks]
        # "from" is a Python keyword, so the months are added by name.
        for name, label, example in zip(
            ("from", "to"), month_labels, ("2026-03", "2026-08"), strict=True
        ):
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                help_text=f"Year and month, for example {example}",
                widget=forms.TextInput(
                    attrs={"class": "nhsuk-input--width-10", "spellcheck": "false"}
                ),
            )

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["first"], cleaned["last"] = month_range(
                cleaned.get("from"), cleaned.get("to"), default_months=self.default_months
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned
