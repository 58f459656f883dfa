"""Form fields shared by every app."""

from __future__ import annotations

import datetime as dt

from django import forms


class DateInputWidget(forms.MultiWidget):
    """The NHS.UK date input: day, month and year boxes."""

    template_name = "nhsuk/widgets/date_input.html"

    def __init__(self, attrs=None):
        # Inputs named <field>_0, _1, _2 (day, month, year); the template adds
        # their labels and widths.
        widgets = [forms.TextInput(attrs={"inputmode": "numeric"}) for _ in range(3)]
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class DateInputField(forms.MultiValueField):
    """A date typed as day, month and year, with the NHS.UK error messages
    ("Date of birth must include a year")."""

    widget = DateInputWidget

    def __init__(self, *, label: str, **kwargs):
        self.noun = label
        # The parts are optional one by one so that compress() can say which
        # is missing ("must include a year").
        fields = tuple(forms.CharField(required=False) for _ in range(3))
        super().__init__(fields, label=label, require_all_fields=False, **kwargs)
        self.error_messages["required"] = f"Enter the {label.lower()}"

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        day, month, year = (part.strip() if part else "" for part in data_list)
        parts = zip(("day", "month", "year"), (day, month, year), strict=True)
        missing = [name for name, part in parts if not part]
        if missing:
            raise forms.ValidationError(
                f"{self.noun} must include a {' and a '.join(missing)}", code="incomplete"
            )
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise forms.ValidationError(
                f"{self.noun} must be a real date, like 27 3 1941", code="invalid"
            )
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError as exc:
            raise forms.ValidationError(
                f"{self.noun} must be a real date, like 27 3 1941", code="invalid"
            ) from exc
