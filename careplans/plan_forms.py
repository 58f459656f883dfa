"""Forms of the care plan pages: starting a plan from an assessment, its
contents, a goal, a member of the care team, ratifying and recording that
it was shared.

Every form that changes a draft carries the plan's revision, so that the
service can refuse a save based on a page someone else has since changed
(``plans.StalePlan``). The rules themselves (who may, what is refused, what
is warned about) are the services'; these forms only parse what was sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.db.models import Q

from careplans.models import Assessment, CarePlan, CarePlanGoal
from mdtcare.accounts.models import Organisation, User
from mdtcare.core.forms import DateInputField
from patients.models import PrimaryNeed

STALE_PAGE = "This page was out of date. Open the plan again and make your changes."


def _required(field: forms.Field, message: str) -> forms.Field:
    field.error_messages["required"] = message
    return field


class RevisionForm(forms.Form):
    """The plan's revision the page was shown at."""

    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code in ("required", "invalid", "min_value"):
            self.fields["revision"].error_messages[code] = STALE_PAGE


# --- Who: a practitioner of the network, an organisation, or a name ------------------------


class PractitionerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        profession = user.get_profession_display()
        return f"{user} ({profession})" if profession else str(user)


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, organisation):
        return f"{organisation.name} ({organisation.get_type_display()})"


def network_practitioners(network_id):
    """Everyone with a role in the network's MDT."""
    return (
        User.objects.filter(memberships__network_id=network_id, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def plan_organisations(network_id):
    """Partner organisations (community, social care, mental health,
    hospital and voluntary sector, which belong to no one network) and the
    network's own GP practices."""
    return Organisation.objects.filter(Q(network__isnull=True) | Q(network_id=network_id)).order_by(
        "name"
    )


@dataclass(frozen=True)
class WhoOption:
    """One radio of a "who" question and the field it reveals."""

    value: str
    label: str
    field: str = ""  # the name of the revealed field; none for "not agreed yet"


class WhoChoiceMixin:
    """One radio question ("who provides it?") whose answer reveals the
    matching field: a practitioner (select), an organisation (select) or a
    name typed in. Only the chosen one is asked for, and the others are
    cleared, so that one of the three is saved at most. Works without
    JavaScript: the revealed fields are then all shown."""

    who_field: str
    who_options: tuple[WhoOption, ...]
    # Only the revealed field is asked for: no field says "required" to
    # assistive technology while it may be hidden.
    use_required_attribute = False

    def _setup_who(self, network_id) -> None:
        for option in self.who_options:
            if not option.field:
                continue
            field = self.fields[option.field]
            if isinstance(field, PractitionerChoiceField):
                field.queryset = network_practitioners(network_id)
            elif isinstance(field, OrganisationChoiceField):
                field.queryset = plan_organisations(network_id)
            if self.is_bound and self.data.get(self.who_field) != option.value:
                field.required = False

    def clean_who(self, cleaned: dict) -> None:
        """Clear what was not chosen. (The fields are validated by now: they
        are shown as asked for again, without "(optional)".)"""
        kind = cleaned.get(self.who_field)
        for option in self.who_options:
            if option.field and option.value != kind:
                field = self.fields[option.field]
                cleaned[option.field] = "" if isinstance(field, forms.CharField) else None
                field.required = True

    def who_rows(self) -> list[dict]:
        """The options as the template lays them out: each radio (a bound
        subwidget) with the field it reveals."""
        bound = self[self.who_field]
        chosen = str(bound.value() or "")
        return [
            {
                "radio": subwidget,
                "checked": chosen == option.value,
                "field": self[option.field] if option.field else None,
            }
            for subwidget, option in zip(bound.subwidgets, self.who_options, strict=True)
        ]


# --- Starting a plan ---------------------------------------------------------------------------


class PlanCreateForm(forms.Form):
    """The signed assessment the page showed, so that the plan starts from
    what the user saw (even if another is signed meanwhile)."""

    from_assessment = forms.ModelChoiceField(
        queryset=Assessment.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_assessment"].queryset = Assessment.objects.filter(
            patient=patient, status=Assessment.Status.COMPLETED
        )
        self.fields["from_assessment"].error_messages["invalid_choice"] = (
            "That assessment can no longer be used: open this page again."
        )


# --- The plan's contents -----------------------------------------------------------------------

CONTENT_FIELDS = (
    "primary_need",
    "clinical_lead",
    "navigator",
    "starts_on",
    "review_interval_weeks",
    "next_review_on",
    "self_management",
    "contingency",
    "carer_involvement",
)


class PlanContentsForm(RevisionForm):
    primary_need = forms.ChoiceField(
        label="Primary need",
        choices=PrimaryNeed.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text="It decides who the clinical lead should be.",
    )
    clinical_lead = PractitionerChoiceField(
        label="Clinical lead",
        queryset=User.objects.none(),
        required=False,
        empty_label="Not chosen yet",
        help_text="The person's single point of contact for their primary need.",
    )
    navigator = PractitionerChoiceField(
        label="Care navigator",
        queryset=User.objects.none(),
        required=False,
        empty_label="Not chosen yet",
        help_text="Coordinates everything else.",
    )
    starts_on = _required(
        DateInputField(label="Date the plan starts", help_text="For example 26 2 2026"),
        "Enter the date the plan starts",
    )
    review_interval_weeks = _required(
        forms.TypedChoiceField(
            label="How often is the plan reviewed?",
            choices=CarePlan.Interval.choices,
            coerce=int,
            widget=forms.RadioSelect,
        ),
        "Choose how often the plan is reviewed",
    )
    next_review_on = DateInputField(
        label="Next review",
        required=False,
        help_text="Worked out from the start date and how often it is reviewed. Change it "
        "only to choose another date; leave it empty to work it out again.",
    )
    self_management = forms.CharField(
        label="Self-management plan",
        help_text="What the person does to look after themselves, in their words where possible.",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    contingency = forms.CharField(
        label="Contingency and escalation plan",
        help_text="What to do and whom to call if things get worse, in order, out of hours "
        "included. For example: start the rescue pack; then call the community "
        "rapid-response team; out of hours, call 111.",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    carer_involvement = forms.CharField(
        label="Carer's involvement",
        help_text="What the carer does, what they need, and whether they have been offered "
        "a carer's assessment.",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, plan: CarePlan, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("clinical_lead", "navigator"):
            self.fields[name].queryset = network_practitioners(plan.patient.practice.network_id)

    def service_fields(self, plan: CarePlan) -> dict:
        """The contents for ``plans.plan_update``. A review date left as it
        was (or emptied) is worked out again by the service when the start
        date or the interval changes."""
        fields = {name: self.cleaned_data[name] for name in CONTENT_FIELDS}
        review_on = fields["next_review_on"]
        moved = (
            fields["starts_on"] != plan.starts_on
            or fields["review_interval_weeks"] != plan.review_interval_weeks
        )
        if review_on is None or (review_on == plan.next_review_on and moved):
            del fields["next_review_on"]
        return fields


def plan_contents_initial(plan: CarePlan) -> dict:
    return {
        "revision": plan.revision,
        "primary_need": plan.primary_need,
        "clinical_lead": plan.clinical_lead_id,
        "navigator": plan.navigator_id,
        "starts_on": plan.starts_on,
        "review_interval_weeks": plan.review_interval_weeks,
        "next_review_on": plan.next_review_on,
        "self_management": plan.self_management,
        "contingency": plan.contingency,
        "carer_involvement": plan.carer_involvement,
    }


def _date_data(name: str, day: dt.date | None) -> dict:
    if day is None:
        return {f"{name}_0": "", f"{name}_1": "", f"{name}_2": ""}
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


def plan_contents_data(plan: CarePlan) -> dict:
    """The contents as a posted form would carry them: to show the saved
    ones after a save refused as stale."""
    initial = plan_contents_initial(plan)
    data = {
        key: "" if value is None else str(value)
        for key, value in initial.items()
        if key not in ("starts_on", "next_review_on")
    }
    return (
        data
        | _date_data("starts_on", plan.starts_on)
        | _date_data("next_review_on", plan.next_review_on)
    )


# --- A goal ------------------------------------------------------------------------------------

PROVIDER_OPTIONS = (
    WhoOption("practitioner", "A practitioner in the network", "provider"),
    WhoOption(
        "organisation",
        "An organisation or service, voluntary sector included",
        "provider_organisation",
    ),
    WhoOption("name", "Someone else", "provider_name"),
    WhoOption("none", "Not agreed yet"),
)


class GoalForm(WhoChoiceMixin, RevisionForm):
    who_field = "provider_kind"
    who_options = PROVIDER_OPTIONS

    what_matters = _required(
        forms.CharField(
            label="What matters to me",
            help_text="In the person's own words, for example “I want to get to church on "
            "Sundays”.",
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
        "Enter the goal in the person's own words",
    )
    support_agreed = forms.CharField(
        label="Support agreed",
        help_text="What will be done to help, for example “befriending and transport to church”.",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    provider_kind = _required(
        forms.ChoiceField(
            label="Who provides it?",
            choices=[(option.value, option.label) for option in PROVIDER_OPTIONS],
            widget=forms.RadioSelect,
        ),
        "Choose who provides it, or “Not agreed yet”",
    )
    provider = _required(
        PractitionerChoiceField(
            label="Practitioner", queryset=User.objects.none(), empty_label="Choose someone"
        ),
        "Choose the practitioner who provides it",
    )
    provider_organisation = _required(
        OrganisationChoiceField(
            label="Organisation or service",
            queryset=Organisation.objects.none(),
            empty_label="Choose an organisation",
        ),
        "Choose the organisation that provides it",
    )
    provider_name = _required(
        forms.CharField(
            label="Name",
            help_text="For example “her daughter, Ruth” or “Dial-a-Ride”.",
            max_length=200,
        ),
        "Enter who provides it",
    )
    target_on = DateInputField(
        label="By when", required=False, help_text="The target date, for example 31 3 2026"
    )
    progress = _required(
        forms.ChoiceField(
            label="Progress",
            choices=CarePlanGoal.Progress.choices,
            widget=forms.RadioSelect,
            initial=CarePlanGoal.Progress.NOT_STARTED,
        ),
        "Choose how the goal is going",
    )

    def __init__(self, *args, network_id, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_who(network_id)

    def clean(self):
        cleaned = super().clean()
        self.clean_who(cleaned)
        return cleaned

    def goal_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "what_matters": data["what_matters"],
            "support_agreed": data["support_agreed"],
            "provider": data.get("provider"),
            "provider_organisation": data.get("provider_organisation"),
            "provider_name": data.get("provider_name") or "",
            "target_on": data["target_on"],
            "progress": data["progress"],
        }


def goal_initial(goal: CarePlanGoal | None, revision: int) -> dict:
    if goal is None:
        return {
            "revision": revision,
            "provider_kind": "none",
            "progress": CarePlanGoal.Progress.NOT_STARTED,
        }
    if goal.provider_id:
        kind = "practitioner"
    elif goal.provider_organisation_id:
        kind = "organisation"
    elif goal.provider_name:
        kind = "name"
    else:
        kind = "none"
    return {
        "revision": revision,
        "what_matters": goal.what_matters,
        "support_agreed": goal.support_agreed,
        "provider_kind": kind,
        "provider": goal.provider_id,
        "provider_organisation": goal.provider_organisation_id,
        "provider_name": goal.provider_name,
        "target_on": goal.target_on,
        "progress": goal.progress,
    }


def goal_data(goal: CarePlanGoal, revision: int) -> dict:
    """A saved goal as a posted form would carry it."""
    initial = goal_initial(goal, revision)
    data = {
        key: "" if value is None else str(value)
        for key, value in initial.items()
        if key != "target_on"
    }
    return data | _date_data("target_on", goal.target_on)


# --- A member of the care team ----------------------------------------------------------------

MEMBER_OPTIONS = (
    WhoOption("practitioner", "A practitioner in the network", "practitioner"),
    WhoOption(
        "organisation", "An organisation or service, voluntary sector included", "organisation"
    ),
    WhoOption("name", "Someone else", "name"),
)


class TeamMemberForm(WhoChoiceMixin, RevisionForm):
    who_field = "member_kind"
    who_options = MEMBER_OPTIONS

    member_kind = _required(
        forms.ChoiceField(
            label="Who joins the care team?",
            choices=[(option.value, option.label) for option in MEMBER_OPTIONS],
            widget=forms.RadioSelect,
        ),
        "Choose who joins the care team",
    )
    practitioner = _required(
        PractitionerChoiceField(
            label="Practitioner", queryset=User.objects.none(), empty_label="Choose someone"
        ),
        "Choose the practitioner",
    )
    organisation = _required(
        OrganisationChoiceField(
            label="Organisation or service",
            queryset=Organisation.objects.none(),
            empty_label="Choose an organisation",
        ),
        "Choose the organisation",
    )
    name = _required(
        forms.CharField(
            label="Name",
            help_text="For example “Ruth Okafor, daughter” or “St Mark's lunch club”.",
            max_length=200,
        ),
        "Enter their name",
    )
    role_in_plan = _required(
        forms.CharField(
            label="Their role in this plan",
            help_text="What they do for this person, for example “befriending and transport "
            "to church”.",
            max_length=200,
        ),
        "Enter their role in this plan",
    )

    def __init__(self, *args, network_id, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_who(network_id)

    def clean(self):
        cleaned = super().clean()
        self.clean_who(cleaned)
        return cleaned

    def member_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "practitioner": data.get("practitioner"),
            "organisation": data.get("organisation"),
            "name": data.get("name") or "",
            "role_in_plan": data["role_in_plan"],
        }


# --- Ratifying and sharing ---------------------------------------------------------------------


class RatifyForm(RevisionForm):
    note = forms.CharField(
        label="Note",
        help_text="For example “Agreed at the MDT on 3 March”. If you ratify it outside the "
        "meeting, say why. 500 characters at most.",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ShareForm(forms.Form):
    shared_on = _required(
        DateInputField(label="Date it was shared", help_text="For example 5 3 2026"),
        "Enter the date it was shared",
    )
    shared_how = _required(
        forms.ChoiceField(
            label="How was it shared?",
            choices=CarePlan.Sharing.choices,
            widget=forms.RadioSelect,
        ),
        "Choose how it was shared",
    )
