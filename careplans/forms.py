"""Forms of the holistic assessment pages other than a section's questions
(those are defined once, in ``careplans.sections``): starting an
assessment, its details, the version every save carries, signing, and the
reason for an amendment.

Also how a section's stored answers go back into a form (to prefill it, or
to show someone else's saved answers after a refused save), how they read
on a summary list, and how a section's questions are laid out on its page.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext

from careplans import instruments
from careplans.models import Assessment
from careplans.sections import SECTIONS_BY_KEY, Section
from mdtcare.core.forms import DateInputField
from mdtcare.core.templatetags.nhsuk import NhsukField


def _required(field: forms.Field, message: str) -> forms.Field:
    field.error_messages["required"] = message
    return field


class AssessmentStartForm(forms.Form):
    """When, where and with whom the conversation took place."""

    assessed_on = DateInputField(
        label="Date of the assessment", help_text="For example 24 2 2026", required=True
    )
    setting = _required(
        forms.ChoiceField(
            label="Where did it take place?",
            choices=Assessment.Setting.choices,
            widget=forms.RadioSelect,
            initial=Assessment.Setting.HOME,
        ),
        "Select where the assessment took place",
    )
    people_present = forms.CharField(
        label="Who else was there?",
        help_text="For example her daughter, an interpreter",
        max_length=300,
        required=False,
    )


class VersionForm(forms.Form):
    """The version of the assessment the page was shown at: a save based on
    an older one is refused (``services.StaleAssessment``)."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        message = "This page was out of date. Open the assessment again and make your changes."
        for code in ("required", "invalid", "min_value"):
            self.fields["version"].error_messages[code] = message


class AssessmentDetailsForm(AssessmentStartForm, VersionForm):
    pass


AMENDMENT_REASON = "amendment_reason"


def amendment_form(section: Section, *, data=None, initial=None) -> forms.Form:
    """The section's questions followed by the reason for the amendment
    (required), as one form so that one error summary covers both."""
    form = section.form(data=data, initial=initial)
    form.fields[AMENDMENT_REASON] = _required(
        forms.CharField(
            label="Reason for the amendment",
            help_text="What was wrong and how you found out. 500 characters at most.",
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 3}),
        ),
        "Enter the reason for the amendment",
    )
    return form


def amendment_parts(form: forms.Form) -> tuple[dict, str]:
    """The section's answers and the reason, from a valid amendment form."""
    answers = form.cleaned_answers()
    reason = answers.pop(AMENDMENT_REASON, "")
    return answers, reason


# --- Stored answers and form values -------------------------------------------------


def answers_normalised(answers: dict) -> dict:
    """Answers as they read back from the database (dates and decimals as
    text), so that answers from a form compare equal to stored ones."""
    return json.loads(json.dumps(answers or {}, cls=DjangoJSONEncoder))


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def answers_as_form_values(section_key: str, answers: dict) -> dict[str, str]:
    """A section's stored answers as the values its form's inputs take, to
    prefill the form (``initial``) or to bind it (``data``)."""
    form_fields = SECTIONS_BY_KEY[section_key].form.base_fields
    values = {}
    for key, value in (answers or {}).items():
        if key not in form_fields or value in (None, "", []):
            continue
        if isinstance(value, list):
            values[key] = "\n".join(str(line) for line in value)
        elif isinstance(form_fields[key], forms.DateField) and _as_date(value):
            values[key] = _as_date(value).strftime("%d/%m/%Y")
        else:
            values[key] = str(value)
    return values


def answers_differing(theirs: dict, yours: dict) -> list[str]:
    """The questions (keys) whose answers differ between two sets of answers."""
    theirs, yours = answers_normalised(theirs), answers_normalised(yours)
    return [key for key in sorted(set(theirs) | set(yours)) if theirs.get(key) != yours.get(key)]


# --- Answers as summary-list rows ------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    key: str
    question: str
    # Lines of the answer: one for most, one per statement for "what matters to me".
    lines: tuple[str, ...]

    @property
    def answered(self) -> bool:
        return bool(self.lines)


def _answer_lines(form_field: forms.Field, value) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    if isinstance(value, list):
        return tuple(str(line) for line in value)
    choices = getattr(form_field, "choices", None)
    if choices:
        labels = {str(choice): str(label) for choice, label in choices}
        return (labels.get(str(value), str(value)),)
    if isinstance(form_field, forms.DateField) and _as_date(value):
        day = _as_date(value)
        return (f"{day.day} {day:%B %Y}",)
    return (str(value),)


def answer_rows(section_key: str, answers: dict, keys: list[str] | None = None) -> list[AnswerRow]:
    """Every question of the section (or only ``keys``) with its answer in
    words, in the order the section asks them."""
    form_fields = SECTIONS_BY_KEY[section_key].form.base_fields
    answers = answers or {}
    return [
        AnswerRow(key, str(form_field.label), _answer_lines(form_field, answers.get(key)))
        for key, form_field in form_fields.items()
        if keys is None or key in keys
    ]


# --- A section's page: its questions in groups ------------------------------------------


class SectionQuestion(NhsukField):
    """One question rendered by the NHS.UK pack's field templates. Every
    answer may be left blank in a draft, but the answers that complete the
    section (all of an instrument's items) are not marked "(optional)"."""

    def __init__(self, bound_field, *, completes_section: bool):
        super().__init__(bound_field)
        self.completes_section = completes_section

    @property
    def label(self) -> str:
        if self.completes_section:
            return str(self.field.label or "")
        return super().label

    @property
    def name(self) -> str:
        return self.field.name


@dataclass
class QuestionGroup:
    """Questions shown together: the section's own, or one instrument's
    items under its name and question."""

    heading: str = ""
    question: str = ""
    score_key: str = ""
    questions: list[SectionQuestion] = field(default_factory=list)
    # The instrument's score as last saved (a selectors.ScoreLine), set by the page.
    score: object = None


# Which instrument each item belongs to, and the score the page shows for it.
_INSTRUMENT_OF_ITEM = {
    item.key: instrument
    for instrument in (instruments.BARTHEL, instruments.PHQ9, instruments.GAD7)
    for item in instrument.items
}
# Sections scored as a whole rather than item by item.
_SECTION_SCORES = {"frailty": "cfs", "falls": "falls"}


def question_groups(section: Section, form: forms.Form) -> list[QuestionGroup]:
    """The section's questions in the order of its form, each instrument's
    items gathered under the instrument's name (where its score shows)."""
    own = QuestionGroup(score_key=_SECTION_SCORES.get(section.key, ""))
    groups = [own]
    by_instrument: dict[str, QuestionGroup] = {}
    for name in form.fields:
        if name == AMENDMENT_REASON:
            continue
        question = SectionQuestion(form[name], completes_section=name in section.required)
        instrument = _INSTRUMENT_OF_ITEM.get(name)
        if instrument is None:
            own.questions.append(question)
            continue
        if instrument.key not in by_instrument:
            by_instrument[instrument.key] = QuestionGroup(
                heading=instrument.name, question=instrument.question, score_key=instrument.key
            )
            groups.append(by_instrument[instrument.key])
        by_instrument[instrument.key].questions.append(question)
    return [group for group in groups if group.questions]


def self_harm_answered(form: forms.Form) -> bool:
    """PHQ-9 item 9 (thoughts of self-harm) above zero in what the form
    shows, typed or saved. A value that is not a number counts as no."""
    if instruments.PHQ9_SELF_HARM_ITEM not in form.fields:
        return False
    value = form[instruments.PHQ9_SELF_HARM_ITEM].value()
    try:
        return instruments.phq9_self_harm_flag({instruments.PHQ9_SELF_HARM_ITEM: value})
    except (TypeError, ValueError):
        return False


def saved_at_text(when: dt.datetime) -> str:
    return gettext("Saved at %(time)s") % {"time": timezone.localtime(when).strftime("%H:%M")}
