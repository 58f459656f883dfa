"""Forms of the meeting pages. They parse what the user typed; every rule
(who may schedule, a meeting ending after it starts, not in the past, the
agenda's revision) lives in ``meetings.services``."""

from __future__ import annotations

import datetime as dt

from django import forms

from mdtcare.accounts.models import Membership, User
from mdtcare.core.forms import DateInputField
from meetings.models import Meeting, MeetingSeries

NO_REPEAT = ""


class TimeOfDayField(forms.CharField):
    """A 24-hour time typed as HH:MM (like 09:30)."""

    def __init__(self, *, label: str, **kwargs):
        self.noun = label
        super().__init__(label=label, **kwargs)
        self.error_messages["required"] = f"Enter the {label.lower()}"
        self.widget.attrs.update(
            {"inputmode": "numeric", "maxlength": "5", "class": "nhsuk-input--width-5"}
        )

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        try:
            return dt.datetime.strptime(text.replace(".", ":"), "%H:%M").time()
        except ValueError as exc:
            raise forms.ValidationError(
                f"{self.noun} must be a 24-hour time, like 09:30", code="invalid"
            ) from exc


class MeetingScheduleForm(forms.Form):
    network = forms.ModelChoiceField(
        queryset=None,
        label="Network",
        empty_label=None,
        error_messages={
            "required": "Choose the network",
            "invalid_choice": "Choose one of your networks",
        },
    )
    date = DateInputField(label="Date", help_text="For example, 27 3 2027")
    starts_at = TimeOfDayField(label="Start time", help_text="24-hour clock, like 09:30")
    ends_at = TimeOfDayField(label="End time", help_text="24-hour clock, like 11:00")
    format = forms.ChoiceField(
        label="Format",
        choices=Meeting.Format.choices,
        initial=Meeting.Format.FACE_TO_FACE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how the meeting is held"},
    )
    venue = forms.CharField(label="Venue", max_length=300, required=False)
    dial_in = forms.CharField(
        label="Dial-in", max_length=300, required=False, help_text="Link or phone number"
    )
    chair = forms.ModelChoiceField(
        queryset=None, label="Chair", required=False, empty_label="To be decided"
    )
    frequency = forms.ChoiceField(
        label="Repeat",
        choices=[(NO_REPEAT, "Does not repeat"), *MeetingSeries.Frequency.choices],
        initial=NO_REPEAT,
        required=False,
        widget=forms.RadioSelect,
    )
    until = DateInputField(
        label="Repeat until", required=False, help_text="Only when the meeting repeats"
    )

    def __init__(self, *args, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = networks
        # GP chairs of the user's networks; the service checks the chosen
        # chair belongs to the meeting's network.
        self.fields["chair"].queryset = (
            User.objects.filter(
                memberships__network__in=networks,
                memberships__role=Membership.Role.GP_CHAIR,
                is_active=True,
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        self.fields["chair"].label_from_instance = lambda user: user.get_full_name() or str(user)

    def clean(self):
        data = super().clean()
        if data.get("frequency") and not data.get("until") and "until" not in self.errors:
            self.add_error("until", "Enter the date the meeting repeats until")
        return data


class MeetingCancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the meeting cancelled?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the meeting is cancelled"},
    )


class RevisionForm(forms.Form):
    """The agenda revision the page was built on; a change based on an older
    one is refused by the service (StaleAgenda)."""

    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class AgendaAddForm(RevisionForm):
    # The people ticked in "Proposed" (or the one "Add as urgent" button);
    # each is read through the gate in the view.
    patient = forms.TypedMultipleChoiceField(coerce=str, required=False, choices=())
    urgent = forms.BooleanField(required=False)
    add_all = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id: the view only adds people it finds through the gate.
        self.fields["patient"].valid_value = lambda value: True


class AgendaPlaceForm(RevisionForm):
    """A drop in the builder's drag-and-drop agenda (static/js/agenda-sort.js):
    the place the item was dropped at, 1 being first. AgendaMoveForm is the
    Up and Down buttons' form."""

    position = forms.IntegerField(min_value=1)


class AgendaMoveForm(RevisionForm):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
