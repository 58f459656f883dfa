"""Holistic assessment pages: the list, starting one, the task list, one
page per section (with autosave), the details, check your answers, signing,
the signed summary, amendments, and the summary printed for the person.

Every page reads the assessment through the gate (404 outside it), writes
one access event, and leaves every rule to ``careplans.services``: a
refusal there (a signed assessment, a stale version, an incomplete one, a
role that may not) is shown to the user, never worked around here.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from careplans import instruments, selectors, services
from careplans.forms import (
    AMENDMENT_REASON,
    AssessmentDetailsForm,
    AssessmentStartForm,
    SectionQuestion,
    VersionForm,
    amendment_form,
    amendment_parts,
    answer_rows,
    answers_as_form_values,
    answers_differing,
    answers_normalised,
    question_groups,
    saved_at_text,
    self_harm_answered,
)
from careplans.models import Assessment
from careplans.scoring import effective_answers
from careplans.sections import SECTIONS, SECTIONS_BY_KEY, Section
from mdtcare.audit.services import access_record
from mdtcare.core.forms_errors import add_service_errors
from patients.views.patient_forms import patient_for_page

PAGE_SIZE = 25
# Drafts are few (each is one person being assessed now); the list shows
# this many at most, latest first.
DRAFTS_SHOWN = 50
SIGNED_MESSAGE = (
    "This assessment has been signed and cannot be changed. To correct a section, "
    "use “Amend this section”."
)


def _assessment_for_page(request, assessment_id, what: str) -> Assessment:
    """The assessment through the gate (404 outside it), with the access
    event this request writes."""
    assessment = selectors.assessment_get_for_user(user=request.user, assessment_id=assessment_id)
    access_record(
        request=request,
        what=what,
        patient_ids=[assessment.patient_id],
        network_ids={assessment.patient.practice.network_id},
    )
    return assessment


def _section_or_404(key: str) -> Section:
    try:
        return SECTIONS_BY_KEY[key]
    except KeyError:
        raise Http404 from None


def _render(request, template, assessment, context=None):
    """A page about one assessment: with the patient banner (and the
    episode's tags) and the assessment itself."""
    return render(
        request,
        template,
        {
            "assessment": assessment,
            "patient": assessment.patient,
            "banner_entry": selectors.episode_for_banner(assessment.patient),
            **(context or {}),
        },
    )


def _local_time(when) -> str:
    return timezone.localtime(when).strftime("%H:%M")


# --- The list and starting one --------------------------------------------------------


@require_GET
def assessment_list(request):
    """The user's drafts to resume, and the assessments signed in their
    networks, latest first."""
    drafts = list(selectors.assessment_drafts(user=request.user)[:DRAFTS_SHOWN])
    page = Paginator(selectors.assessments_completed(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    shown = [*drafts, *page]
    access_record(
        request=request,
        what="assessment.list",
        patient_ids=[assessment.patient_id for assessment in shown],
        network_ids={assessment.patient.practice.network_id for assessment in shown},
    )
    return render(request, "careplans/assessment_list.html", {"drafts": drafts, "page": page})


def assessment_start(request, patient_id):
    """Start a holistic assessment (a re-assessment when the person has a
    signed one): when, where and with whom; then the task list."""
    patient = patient_for_page(request, patient_id, "assessment.start")
    form = AssessmentStartForm(request.POST or None, initial={"assessed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            started = services.assessment_start(
                by=request.user, patient=patient, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            for warning in started.warnings:
                messages.warning(request, warning)
            messages.success(
                request, f"{started.assessment.get_kind_display()} of {patient} started."
            )
            return redirect("careplans:assessment", assessment_id=started.assessment.pk)
    entry = selectors.episode_for_banner(patient)
    return render(
        request,
        "careplans/start.html",
        {
            "form": form,
            "patient": patient,
            "banner_entry": entry,
            "no_open_episode": entry is None or not entry.is_open,
            "drafts": selectors.patient_drafts(patient),
            "previous": selectors.patient_latest_signed(patient),
        },
    )


# --- The task list or the signed summary ---------------------------------------------


@require_GET
def assessment_view(request, assessment_id):
    """A draft: its task list and the scores so far. Signed: the summary,
    with amendments beside the original and the change since last time."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.view")
    lines = selectors.score_lines(assessment)
    if assessment.is_signed:
        return _render(
            request,
            "careplans/summary.html",
            assessment,
            {
                "sections": selectors.assessment_sections(assessment),
                "scores": lines,
                "self_harm": instruments.phq9_self_harm_flag(
                    effective_answers(assessment).get("mood", {})
                ),
            },
        )
    return _render(
        request,
        "careplans/task_list.html",
        assessment,
        {
            "tasks": selectors.assessment_tasks(assessment),
            "scores": lines,
            "missing": services.sections_incomplete(assessment),
            "self_harm": instruments.phq9_self_harm_flag(assessment.answers.get("mood", {})),
        },
    )


# --- The details ----------------------------------------------------------------------


def _details_values(assessment: Assessment) -> dict:
    return {
        "assessed_on": assessment.assessed_on,
        "setting": assessment.setting,
        "people_present": assessment.people_present,
        "version": assessment.version,
    }


def _details_data(assessment: Assessment) -> dict:
    """The details as a posted form would carry them (to show the saved
    ones after a refused save)."""
    day = assessment.assessed_on
    return {
        "assessed_on_0": str(day.day),
        "assessed_on_1": str(day.month),
        "assessed_on_2": str(day.year),
        "setting": assessment.setting,
        "people_present": assessment.people_present,
        "version": str(assessment.version),
    }


def assessment_details(request, assessment_id):
    """The date of the assessment, where it took place and who was there."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.details")
    if request.method != "POST" and assessment.is_signed:
        messages.info(request, SIGNED_MESSAGE)
        return redirect("careplans:assessment", assessment_id=assessment.pk)
    form = AssessmentDetailsForm(request.POST or None, initial=_details_values(assessment))
    if request.method == "POST" and form.is_valid():
        details = dict(form.cleaned_data)
        version = details.pop("version")
        try:
            saved = services.assessment_section_save(
                by=request.user,
                assessment=assessment,
                section="details",
                answers={},
                details=details,
                expected_version=version,
            )
        except services.StaleAssessment as exc:
            # Show the details as they are now saved, at their version.
            form = AssessmentDetailsForm(_details_data(exc.assessment))
            form.is_valid()
            add_service_errors(form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Assessment details saved at {_local_time(saved.updated_at)}."
            )
            return redirect("careplans:assessment", assessment_id=assessment.pk)
    return _render(request, "careplans/details.html", assessment, {"form": form})


# --- A section's page -----------------------------------------------------------------


def _next_url(assessment: Assessment, section: Section, *, then: str, from_check: bool) -> str:
    """Where "Save and continue" goes: the next section, or check your
    answers after the last (or when the user came from there)."""
    if then == "later":
        return reverse("careplans:assessment", args=[assessment.pk])
    position = SECTIONS.index(section)
    if from_check or position == len(SECTIONS) - 1:
        return reverse("careplans:assessment_check", args=[assessment.pk])
    return reverse("careplans:assessment_section", args=[assessment.pk, SECTIONS[position + 1].key])


def _section_page(request, assessment, section, form, version_form, *, unsaved=None):
    groups = question_groups(section, form)
    keys = [group.score_key for group in groups if group.score_key]
    lines = {line.key: line for line in selectors.section_score_lines(assessment, keys)}
    for group in groups:
        group.score = lines.get(group.score_key)
    position = SECTIONS.index(section)
    from_check = request.GET.get("from") == "check"
    return _render(
        request,
        "careplans/section.html",
        assessment,
        {
            "section": section,
            "form": form,
            "version_form": version_form,
            "groups": groups,
            "position": position + 1,
            "count": len(SECTIONS),
            "from_check": from_check,
            "next_is_check": from_check or position == len(SECTIONS) - 1,
            "self_harm": self_harm_answered(form),
            "self_harm_item": instruments.PHQ9_SELF_HARM_ITEM,
            "unsaved": unsaved,
        },
    )


def _refused_as_stale(assessment, section, exc: services.StaleAssessment, yours: dict):
    """After a save refused as stale: the form holds the answers the other
    person saved, at their version (so that saving again is a deliberate
    choice), and the user's own answers that differ are listed, not lost."""
    theirs = exc.assessment.answers.get(section.key, {})
    # The page shows the assessment as it now is (scores included).
    assessment.answers, assessment.version = exc.assessment.answers, exc.assessment.version
    form = section.form(answers_as_form_values(section.key, theirs))
    form.is_valid()
    add_service_errors(form, exc)
    version_form = VersionForm(initial={"version": exc.assessment.version})
    return form, version_form, answer_rows(section.key, yours, answers_differing(theirs, yours))


def _after_section_saved(request, assessment, section, *, before: dict, after: dict) -> str:
    """Where a saved section goes next. A PHQ-9 item 9 answer that has just
    gone above zero first brings the assessor back to the page with the
    warning on it (the alert has been raised): they see what to do before
    anything else, with JavaScript or without."""
    if section.key == "mood" and (
        instruments.phq9_self_harm_flag(after) and not instruments.phq9_self_harm_flag(before)
    ):
        return request.get_full_path()
    return _next_url(
        assessment,
        section,
        then=request.POST.get("then", ""),
        from_check=request.GET.get("from") == "check",
    )


def assessment_section(request, assessment_id, section):
    """One section's questions, prefilled with its saved answers. A save
    refused as stale shows the other person's saved answers beside the
    user's own (``_refused_as_stale``)."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.section")
    section = _section_or_404(section)
    if request.method != "POST":
        if assessment.is_signed:
            messages.info(request, SIGNED_MESSAGE)
            return redirect("careplans:assessment", assessment_id=assessment.pk)
        form = section.form(
            initial=answers_as_form_values(section.key, assessment.answers.get(section.key))
        )
        version_form = VersionForm(initial={"version": assessment.version})
        return _section_page(request, assessment, section, form, version_form)

    form = section.form(request.POST)
    version_form = VersionForm(request.POST)
    unsaved = None
    if not version_form.is_valid():
        form.is_valid()
        form.add_error(None, version_form.errors["version"][0])
    elif form.is_valid():
        answers = form.cleaned_answers()
        before = assessment.answers.get(section.key, {})
        try:
            saved = services.assessment_section_save(
                by=request.user,
                assessment=assessment,
                section=section.key,
                answers=answers,
                expected_version=version_form.cleaned_data["version"],
            )
        except services.StaleAssessment as exc:
            form, version_form, unsaved = _refused_as_stale(assessment, section, exc, answers)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{section.title}: saved at {_local_time(saved.updated_at)}.")
            return redirect(
                _after_section_saved(request, assessment, section, before=before, after=answers)
            )
    return _section_page(request, assessment, section, form, version_form, unsaved=unsaved)


@require_POST
def assessment_autosave(request, assessment_id, section):
    """htmx: save the section as it stands and answer with a fragment,
    "Saved at 10:42" with the new version (so that the next save is not
    refused as stale) and the section's scores; or why it was not saved.
    Always 200, so that htmx shows the answer."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.autosave")
    section = _section_or_404(section)
    form = section.form(request.POST)
    version_form = VersionForm(request.POST)
    if not version_form.is_valid():
        return _autosave_reply(request, problem=version_form.errors["version"][0])
    if not form.is_valid():
        count = len(form.errors)
        return _autosave_reply(
            request,
            problem=f"{count} answer{'s' if count != 1 else ''} need{'s' if count == 1 else ''} "
            "correcting. Save the page to see which.",
        )
    answers = form.cleaned_answers()
    version = version_form.cleaned_data["version"]
    unchanged = answers_normalised(answers) == answers_normalised(
        assessment.answers.get(section.key, {})
    )
    if not assessment.is_signed and version == assessment.version and unchanged:
        # Nothing new: saving again would only raise the version and make
        # another editor's open page stale for no change.
        return _autosave_reply(request, saved_at=assessment.updated_at)
    try:
        saved = services.assessment_section_save(
            by=request.user,
            assessment=assessment,
            section=section.key,
            answers=answers,
            expected_version=version,
        )
    except services.StaleAssessment as exc:
        when = _local_time(exc.assessment.updated_at)
        return _autosave_reply(
            request,
            problem=f"someone else saved this assessment at {when}. Select “Save and come "
            "back later” to see their answers beside yours.",
        )
    except (PermissionDenied, ValidationError) as exc:
        problem = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _autosave_reply(request, problem=problem)
    keys = [group.score_key for group in question_groups(section, form) if group.score_key]
    return _autosave_reply(
        request,
        saved_at=saved.updated_at,
        version=saved.version,
        scores=selectors.section_score_lines(_with_saved(assessment, saved), keys),
    )


def _with_saved(assessment: Assessment, saved: Assessment) -> Assessment:
    """The saved answers on the assessment loaded for the page, whose
    previous assessment (and its amendments) are fetched already."""
    assessment.answers, assessment.version = saved.answers, saved.version
    return assessment


def _autosave_reply(request, *, problem="", saved_at=None, version=None, scores=()):
    return render(
        request,
        "careplans/_autosave.html",
        {
            "problem": problem,
            "saved_text": saved_at_text(saved_at) if saved_at else "",
            "version": version,
            "scores": scores,
        },
    )


# --- Check your answers and signing ------------------------------------------------------


def _check_page(request, assessment, form, *, version=None):
    return _render(
        request,
        "careplans/check.html",
        assessment,
        {
            "form": form,
            "version": version or assessment.version,
            "sections": selectors.assessment_sections(assessment),
            "scores": selectors.score_lines(assessment),
            "missing": _sections_titled(services.sections_incomplete(assessment)),
            "can_sign": request.user.pk == assessment.assessor_id,
            "self_harm": instruments.phq9_self_harm_flag(assessment.answers.get("mood", {})),
        },
    )


def _sections_titled(titles: list[str]) -> list[Section]:
    return [section for section in SECTIONS if section.title in titles]


@require_GET
def assessment_check(request, assessment_id):
    """Check your answers: every section, what is still missing, and (for
    the assessor) "Sign and complete"."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.check")
    if assessment.is_signed:
        return redirect("careplans:assessment", assessment_id=assessment.pk)
    return _check_page(request, assessment, VersionForm())


def _signed_text(assessment: Assessment) -> str:
    signed_at = timezone.localtime(assessment.signed_at)
    return f"{signed_at:%H:%M} on {signed_at.day} {signed_at:%B %Y} by {assessment.signed_by}"


@require_POST
def assessment_complete(request, assessment_id):
    """Sign and complete. A second click on a signed assessment changes
    nothing and says when and by whom it was signed."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.complete")
    if assessment.is_signed:
        messages.info(request, f"This assessment was already signed at {_signed_text(assessment)}.")
        return redirect("careplans:assessment", assessment_id=assessment.pk)
    form = VersionForm(request.POST)
    version = None
    if form.is_valid():
        try:
            signed = services.assessment_complete(
                by=request.user,
                assessment=assessment,
                expected_version=form.cleaned_data["version"],
            )
        except services.StaleAssessment as exc:
            add_service_errors(form, exc)
            version = exc.assessment.version
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Assessment signed at {_signed_text(signed)}. It can no longer be changed: "
                "corrections are added as amendments.",
            )
            return redirect("careplans:assessment", assessment_id=assessment.pk)
    return _check_page(request, assessment, form, version=version)


# --- Amendments ----------------------------------------------------------------------


def assessment_amend(request, assessment_id, section):
    """Correct a section of a signed assessment, with the reason. The
    original stays as it was signed; the amendment is shown beside it."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.amend")
    section = _section_or_404(section)
    if not assessment.is_signed:
        return redirect(
            "careplans:assessment_section", assessment_id=assessment.pk, section=section.key
        )
    current = effective_answers(assessment).get(section.key, {})
    form = amendment_form(
        section,
        data=request.POST if request.method == "POST" else None,
        initial=answers_as_form_values(section.key, current),
    )
    if request.method == "POST" and form.is_valid():
        answers, reason = amendment_parts(form)
        try:
            services.assessment_amend(
                by=request.user,
                assessment=assessment,
                section=section.key,
                answers=answers,
                reason=reason,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{section.title}: the amendment has been added.")
            return redirect(
                reverse("careplans:assessment", args=[assessment.pk]) + f"#section-{section.key}"
            )
    return _render(
        request,
        "careplans/amend.html",
        assessment,
        {
            "section": section,
            "form": form,
            "groups": question_groups(section, form),
            "reason": SectionQuestion(form[AMENDMENT_REASON], completes_section=True),
            "self_harm": self_harm_answered(form),
            "self_harm_item": instruments.PHQ9_SELF_HARM_ITEM,
        },
    )


# --- The summary for the person ----------------------------------------------------------


@require_GET
def assessment_print(request, assessment_id):
    """A plain-English summary to leave with the person: what matters to
    them first, the scores in words, the change since last time, who
    assessed them and when."""
    assessment = _assessment_for_page(request, assessment_id, "assessment.print")
    if not assessment.is_signed:
        messages.info(
            request, "The summary for the person can be printed once the assessment is signed."
        )
        return redirect("careplans:assessment", assessment_id=assessment.pk)
    answers = effective_answers(assessment)
    previous_on = assessment.previous.assessed_on if assessment.previous else None
    return _render(
        request,
        "careplans/print.html",
        assessment,
        {
            "what_matters": answers.get("what_matters", {}).get("i_statements", []),
            "plain_scores": selectors.plain_scores(selectors.score_lines(assessment), previous_on),
            "previous_on": previous_on,
        },
    )
