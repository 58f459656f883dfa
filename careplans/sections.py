"""The sections of the holistic assessment: their questions (as forms) and
which answers a section needs before it counts as completed.

Every field may be left blank while the assessment is a draft (nothing is
lost by saving early); a section is "completed" when its required answers
are all given, and the assessment can be signed when every mandatory
section is completed. Instrument items accept only their published values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from careplans import instruments

YES_NO = [("", "Not answered"), ("yes", "Yes"), ("no", "No")]


def _item_field(item: instruments.Item) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=item.wording,
        choices=[(option.value, option.label) for option in item.options],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


def _text(label: str, help_text: str = "", rows: int = 3, max_length: int = 2000):
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _yes_no(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=YES_NO[1:], required=False, widget=forms.RadioSelect
    )


class SectionForm(forms.Form):
    """A section's questions. ``cleaned_answers`` is what is stored: blank
    answers are left out."""

    def cleaned_answers(self) -> dict:
        return {
            key: value for key, value in self.cleaned_data.items() if value not in (None, "", [])
        }


class PhysicalHealthForm(SectionForm):
    health_in_own_words = _text("How is your health at the moment?", "The person's own description")
    admissions_last_12_months = forms.IntegerField(
        label="Hospital admissions in the last 12 months",
        min_value=0,
        max_value=50,
        required=False,
    )
    conditions_notes = _text(
        "Long-term conditions: how they affect daily life",
        "The conditions on the record are listed above",
    )


class MedicinesForm(SectionForm):
    medicines_count = forms.IntegerField(
        label="Number of regular medicines", min_value=0, max_value=60, required=False
    )
    last_review_on = forms.DateField(
        label="Date of the last medication review",
        help_text="For example 14/09/2025",
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
    )
    problems_taking = _yes_no("Any problems taking them (forgetting, swallowing, packaging)?")
    concerns = _text("Concerns about medicines")


class FunctionForm(SectionForm):
    """Functional abilities: the Barthel index."""


for _item in instruments.BARTHEL.items:
    FunctionForm.base_fields[_item.key] = _item_field(_item)


class FallsForm(SectionForm):
    fell_last_12_months = _yes_no("Any falls in the last 12 months?")
    falls_count = forms.IntegerField(
        label="How many falls", min_value=0, max_value=365, required=False
    )
    tug_seconds = forms.DecimalField(
        label="Timed Up and Go (seconds)",
        help_text="Over 12 seconds suggests a high risk of falling",
        min_value=0,
        max_value=600,
        decimal_places=1,
        required=False,
    )
    falls_notes = _text("What happened, and what helps")


class ContinenceForm(SectionForm):
    continence_problems = _yes_no("Any problems with bladder or bowels?")
    continence_notes = _text("Details, products used, support in place")


class NutritionForm(SectionForm):
    weight_loss = _yes_no("Unplanned weight loss in the last 3 to 6 months?")
    appetite = forms.ChoiceField(
        label="Appetite",
        choices=[("good", "Good"), ("reduced", "Reduced"), ("poor", "Poor")],
        required=False,
        widget=forms.RadioSelect,
    )
    nutrition_notes = _text("Eating, drinking, shopping and cooking")


class PainForm(SectionForm):
    has_pain = _yes_no("Any pain most days?")
    pain_score = forms.IntegerField(
        label="How bad is it, from 0 (none) to 10 (worst)?",
        min_value=0,
        max_value=10,
        required=False,
    )
    pain_notes = _text("Where, and what helps")


class MoodForm(SectionForm):
    """Memory and mood: memory concerns, PHQ-9 and GAD-7."""

    memory_concerns = _yes_no("Any worries about memory?")
    memory_notes = _text("Memory: what the person or their family notice")


for _item in (*instruments.PHQ9.items, *instruments.GAD7.items):
    MoodForm.base_fields[_item.key] = _item_field(_item)


class FrailtyForm(SectionForm):
    cfs = forms.TypedChoiceField(
        label="Clinical Frailty Scale",
        help_text="Judge how the person was 2 weeks ago, not during an acute illness",
        choices=[
            (option.value, f"{option.value}. {option.label}") for option in instruments.CFS_LEVELS
        ],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


class SocialForm(SectionForm):
    lives_alone = _yes_no("Lives alone?")
    isolation = forms.ChoiceField(
        label="How often do you feel lonely?",
        choices=[
            ("never", "Hardly ever or never"),
            ("sometimes", "Some of the time"),
            ("often", "Often"),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    housing = _text("Housing: is the home suitable, warm and safe?")
    finances = _text("Finances and benefits", "For example Attendance Allowance, Pension Credit")
    has_carer = _yes_no("Has a carer?")
    carer_view = _text(
        "The carer's view, in their own words", "How they are coping with caring", rows=4
    )
    carer_assessment = forms.ChoiceField(
        label="Carer's assessment",
        choices=[
            ("not_applicable", "Not applicable"),
            ("offered", "Offered"),
            ("referred", "Referred"),
            ("declined", "Declined"),
            ("already_has", "Already has one"),
        ],
        required=False,
        widget=forms.RadioSelect,
    )


class BehavioursForm(SectionForm):
    smoking = forms.ChoiceField(
        label="Smoking",
        choices=[("never", "Never smoked"), ("ex", "Ex-smoker"), ("current", "Smokes")],
        required=False,
        widget=forms.RadioSelect,
    )
    alcohol_units = forms.IntegerField(
        label="Alcohol, units a week", min_value=0, max_value=500, required=False
    )
    activity = _text("Physical activity")
    diet = _text("Diet")


class WhatMattersForm(SectionForm):
    i_statements = _text(
        "What matters to me",
        "The person's own words, one statement a line, for example “I want to be able to "
        "get to the shops on my own”",
        rows=6,
    )

    def clean_i_statements(self):
        lines = [line.strip() for line in self.cleaned_data["i_statements"].splitlines()]
        return [line for line in lines if line][:30]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    form: type[SectionForm]
    mandatory: bool
    # The answers that make the section completed.
    required: tuple[str, ...]


SECTIONS = (
    Section(
        "physical_health",
        "Physical health and long-term conditions",
        PhysicalHealthForm,
        True,
        ("health_in_own_words",),
    ),
    Section("medicines", "Medicines", MedicinesForm, True, ("medicines_count",)),
    Section(
        "function",
        "Functional abilities (Barthel index)",
        FunctionForm,
        True,
        tuple(item.key for item in instruments.BARTHEL.items),
    ),
    Section("falls", "Falls", FallsForm, True, ("fell_last_12_months",)),
    Section("continence", "Continence", ContinenceForm, False, ("continence_problems",)),
    Section("nutrition", "Nutrition", NutritionForm, False, ("weight_loss",)),
    Section("pain", "Pain", PainForm, False, ("has_pain",)),
    Section(
        "mood",
        "Memory and mood (PHQ-9, GAD-7)",
        MoodForm,
        True,
        tuple(item.key for item in (*instruments.PHQ9.items, *instruments.GAD7.items)),
    ),
    Section("frailty", "Frailty (Clinical Frailty Scale)", FrailtyForm, True, ("cfs",)),
    Section(
        "social",
        "Social situation, carer and carer strain",
        SocialForm,
        True,
        ("lives_alone", "has_carer"),
    ),
    Section("behaviours", "Healthy behaviours", BehavioursForm, False, ("smoking",)),
    Section("what_matters", "What matters to me", WhatMattersForm, True, ("i_statements",)),
)
SECTIONS_BY_KEY = {section.key: section for section in SECTIONS}


def section_state(section: Section, answers: dict) -> str:
    """ "not_started", "in_progress" or "completed"."""
    given = answers.get(section.key) or {}
    if not given:
        return "not_started"
    if all(given.get(key) not in (None, "", []) for key in section.required):
        return "completed"
    return "in_progress"
