"""Forms of the chair's meeting screen. They parse what was typed; every
rule (who may, when, a stale save, an action without an owner) is the
service's, in ``meetings.services``."""

from __future__ import annotations

from django import forms

from careplans.plan_forms import (
    OrganisationChoiceField,
    PractitionerChoiceField,
    network_practitioners,
    plan_organisations,
)
from mdtcare.core.forms import DateInputField
from meetings.models import Action, AttendanceStatus, Discussion
from patients.models import PrimaryNeed

ACTING_REASON_HELP = (
    "Only if you are an admin acting as chair: say why (for example “Dr Patel is on leave”)."
)


class ActingForm(forms.Form):
    """Start or close: an admin acting as chair gives the reason."""

    acting_reason = forms.CharField(
        label="Reason for acting as chair",
        help_text=ACTING_REASON_HELP,
        max_length=500,
        required=False,
    )


class OutcomeFields(forms.Form):
    """What the MDT recorded: used at the meeting and to correct it after."""

    summary = forms.CharField(
        label="Summary of the discussion",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    decisions = forms.CharField(
        label="Decisions", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=Discussion.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome of the discussion"},
    )
    next_review_on = DateInputField(
        label="Next review date", help_text="For example 26 2 2026", required=False
    )


class OutcomeForm(OutcomeFields, ActingForm):
    primary_need = forms.ChoiceField(
        label="Primary need",
        choices=[("", "Leave as it is"), *PrimaryNeed.choices],
        required=False,
    )
    clinical_lead = PractitionerChoiceField(
        label="Clinical lead",
        queryset=None,
        required=False,
        empty_label="Leave as it is",
    )
    ratify_plan = forms.BooleanField(label="Ratify the proposed plan", required=False)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, network_id, may_ratify: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinical_lead"].queryset = network_practitioners(network_id)
        if not may_ratify:
            del self.fields["ratify_plan"]


class ActionForm(ActingForm):
    what = forms.CharField(
        label="What needs to be done",
        max_length=500,
        error_messages={"required": "Enter what needs to be done"},
    )
    owner = PractitionerChoiceField(
        label="Owner", queryset=None, required=False, empty_label="Choose a person"
    )
    owner_organisation = OrganisationChoiceField(
        label="Or an organisation",
        queryset=None,
        required=False,
        empty_label="Choose an organisation",
    )
    due_on = DateInputField(label="Due date", help_text="For example 26 2 2026")
    priority = forms.ChoiceField(
        label="Priority", choices=Action.Priority.choices, initial=Action.Priority.ROUTINE
    )

    def __init__(self, *args, network_id, **kwargs):
        # Own ids: the screen shows this form beside the outcome form.
        kwargs.setdefault("auto_id", "action_%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = network_practitioners(network_id)
        self.fields["owner_organisation"].queryset = plan_organisations(network_id)


class AttendanceForm(ActingForm):
    user = PractitionerChoiceField(
        label="Member of the network", queryset=None, required=False, empty_label="A guest"
    )
    name = forms.CharField(label="Or a guest's name", max_length=200, required=False)
    status = forms.ChoiceField(
        label="Attendance",
        choices=AttendanceStatus.choices,
        initial=AttendanceStatus.PRESENT,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, network_id, **kwargs):
        kwargs.setdefault("auto_id", "attendance_%s")
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = network_practitioners(network_id)


class AmendForm(OutcomeFields):
    """Correct an outcome after the meeting closed, with the reason."""

    reason = forms.CharField(
        label="Reason for the correction",
        help_text="For example “the minutes gave the wrong outcome: the MDT agreed to re-list”.",
        max_length=500,
        error_messages={"required": "Enter the reason for the correction"},
    )
    revision = forms.IntegerField(widget=forms.HiddenInput)
