"""Forms of the register: they parse and check what was typed; the rules
(duplicates, permissions, allowed status changes) are in services."""

from __future__ import annotations

import uuid

from django import forms

from mdtcare.accounts.models import Organisation
from mdtcare.core import nhs_number
from mdtcare.core.forms import DateInputField
from patients.models import (
    Consent,
    EntryStatus,
    LongTermCondition,
    Patient,
    RegisterEntry,
)
from patients.services import TRANSITIONS

REASON_MAX = 2000


def _required(field: forms.Field, message: str) -> forms.Field:
    field.error_messages["required"] = message
    return field


class PatientForm(forms.Form):
    """A person's details. The NHS number is asked only when adding them."""

    nhs_number = _required(
        forms.CharField(
            label="NHS number",
            max_length=20,
            help_text="10 digits, for example 485 777 3456",
            widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10", "spellcheck": "false"}),
        ),
        "Enter the NHS number",
    )
    title = forms.CharField(
        label="Title", max_length=20, required=False, help_text="For example Mrs"
    )
    given_name = _required(
        forms.CharField(label="First name", max_length=100), "Enter the first name"
    )
    family_name = _required(
        forms.CharField(label="Last name", max_length=100), "Enter the last name"
    )
    date_of_birth = DateInputField(label="Date of birth", help_text="For example 27 3 1941")
    sex = _required(
        forms.ChoiceField(label="Sex", choices=Patient.Sex.choices, widget=forms.RadioSelect),
        "Select the person's sex",
    )
    address = forms.CharField(
        label="Address", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    postcode = _required(
        forms.CharField(
            label="Postcode",
            max_length=8,
            widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10"}),
        ),
        "Enter the postcode",
    )
    phone = forms.CharField(label="Phone number", max_length=30, required=False)
    practice = _required(
        forms.ModelChoiceField(
            label="Registered GP practice", queryset=Organisation.objects.none()
        ),
        "Select the GP practice",
    )
    preferred_language = forms.CharField(
        label="Preferred language", max_length=60, required=False, initial="English"
    )
    interpreter_needed = forms.BooleanField(label="Needs an interpreter", required=False)
    accessibility_needs = forms.CharField(
        label="Accessibility needs",
        max_length=2000,
        required=False,
        help_text="For example hearing loss, large print, wheelchair user",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = Organisation.objects.filter(
            type=Organisation.Type.GP_PRACTICE,
            network__memberships__user_id=user.pk,
        ).order_by("name")
        if editing:
            del self.fields["nhs_number"]

    def clean_nhs_number(self):
        try:
            return nhs_number.validate(self.cleaned_data["nhs_number"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc


class ConditionsForm(forms.Form):
    conditions = forms.MultipleChoiceField(
        label="Long-term conditions",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conditions"].choices = [
            (condition.key, condition.name) for condition in LongTermCondition.objects.all()
        ]


class CarerForm(forms.Form):
    name = _required(forms.CharField(label="Name", max_length=200), "Enter the carer's name")
    relationship = _required(
        forms.CharField(
            label="Relationship to the person", max_length=60, help_text="For example daughter"
        ),
        "Enter the relationship",
    )
    phone = forms.CharField(label="Phone number", max_length=30, required=False)
    is_main_carer = forms.BooleanField(label="Main carer", required=False)
    is_next_of_kin = forms.BooleanField(label="Next of kin", required=False)
    lives_with_patient = forms.BooleanField(label="Lives with the person", required=False)


class ConsentForm(forms.Form):
    topic = _required(
        forms.ChoiceField(
            label="Consent to", choices=Consent.Topic.choices, widget=forms.RadioSelect
        ),
        "Select what the consent is for",
    )
    decision = _required(
        forms.ChoiceField(
            label="Decision", choices=Consent.Decision.choices, widget=forms.RadioSelect
        ),
        "Select the decision",
    )
    decided_on = DateInputField(label="Date of the decision", help_text="For example 12 2 2026")
    note = forms.CharField(
        label="Who decided and why",
        max_length=500,
        required=False,
        help_text="Needed for a best-interests decision",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FindPersonForm(forms.Form):
    nhs_number = _required(
        forms.CharField(
            label="NHS number of the person you are referring",
            max_length=20,
            help_text="10 digits, for example 485 777 3456",
            widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10"}),
        ),
        "Enter the NHS number",
    )

    def clean_nhs_number(self):
        try:
            return nhs_number.validate(self.cleaned_data["nhs_number"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc


class EmergencyAccessForm(forms.Form):
    """Emergency access to someone outside the practitioner's networks: the
    rules (who, how long, the reason's length) are in patients/emergency.py."""

    nhs_number = _required(
        forms.CharField(
            label="NHS number of the person",
            max_length=20,
            help_text="10 digits, for example 485 777 3456",
            widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10", "spellcheck": "false"}),
        ),
        "Enter the NHS number",
    )
    reason = _required(
        forms.CharField(
            label="Why do you need this person's record now?",
            max_length=1000,
            help_text=(
                "For example: seen at home out of hours, falls and confusion, "
                "need the contingency plan and who to call"
            ),
            widget=forms.Textarea(attrs={"rows": 4}),
        ),
        "Enter the reason you need this record",
    )

    def clean_nhs_number(self):
        try:
            return nhs_number.validate(self.cleaned_data["nhs_number"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc


class ReferralForm(forms.Form):
    source = _required(
        forms.ChoiceField(
            label="Who is referring",
            choices=[("", "Select"), *RegisterEntry.Source.choices],
        ),
        "Select who is referring",
    )
    referrer_name = _required(
        forms.CharField(
            label="Referrer's name and role",
            max_length=200,
            help_text="For example Dr Ann Lee, GP",
        ),
        "Enter the referrer's name and role",
    )
    referring_organisation = forms.ModelChoiceField(
        label="Referring organisation",
        queryset=Organisation.objects.order_by("name"),
        required=False,
    )
    reason = _required(
        forms.CharField(
            label="Reason for referral",
            max_length=REASON_MAX,
            help_text="What is happening and what the person needs. 2,000 characters at most.",
            widget=forms.Textarea(attrs={"rows": 6}),
        ),
        "Enter the reason for the referral",
    )
    urgency = forms.ChoiceField(
        label="Urgency",
        choices=RegisterEntry.Urgency.choices,
        widget=forms.RadioSelect,
        initial=RegisterEntry.Urgency.ROUTINE,
    )
    referred_on = DateInputField(label="Date of referral", help_text="For example 10 2 2026")
    # One referral however many times the form is sent.
    submission_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["max_length"] = (
            "Reason for referral must be 2,000 characters or fewer"
        )


def _practitioner_field(label: str, required_message: str | None) -> forms.ModelChoiceField:
    from mdtcare.accounts.models import User

    field = forms.ModelChoiceField(
        label=label, queryset=User.objects.none(), required=required_message is not None
    )
    if required_message:
        field.error_messages["required"] = required_message
    return field


class AllocationForm(forms.Form):
    """Clinical lead, navigator, tier and primary need of an episode."""

    clinical_lead = _practitioner_field("Clinical lead", "Select the clinical lead")
    navigator = _practitioner_field("Care navigator", "Select the care navigator")
    primary_need = forms.ChoiceField(
        label="Primary need",
        choices=[("", "Not decided yet"), *RegisterEntry.PrimaryNeed.choices],
        required=False,
    )
    tier = forms.TypedChoiceField(
        label="Tier",
        choices=[("", "Not set"), ("0", "0"), ("1", "1"), ("2", "2"), ("3", "3")],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="0 lowest to 3 highest need",
    )
    expected = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinical_lead"].queryset = practitioners
        self.fields["navigator"].queryset = practitioners
        for name in ("clinical_lead", "navigator"):
            self.fields[name].label_from_instance = lambda user: (
                f"{user.get_full_name()} ({user.get_profession_display()})"
            )


class DeclineForm(forms.Form):
    reason = _required(
        forms.CharField(
            label="Why is the referral declined?",
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 4}),
        ),
        "Enter why the referral is declined",
    )
    expected = forms.CharField(widget=forms.HiddenInput, required=False)


class StatusForm(forms.Form):
    to_status = _required(
        forms.ChoiceField(label="New status", widget=forms.RadioSelect),
        "Select the new status",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        required=False,
        help_text="Needed when stepping down or discharging",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    expected = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = [
            status
            for status in TRANSITIONS.get(current, {})
            if status not in (EntryStatus.ACCEPTED, EntryStatus.DECLINED)
        ]
        self.fields["to_status"].choices = [(s, EntryStatus(s).label) for s in allowed]
