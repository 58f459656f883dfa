"""The risk-stratification import: each valid row becomes a ``RiskScore``
(the history) and, when it is the person's latest, is copied onto the
patient."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mdtcare.accounts.models import User
from patients.imports.common import (
    _NUMBER,
    BATCH_SIZE,
    NHS_NUMBER,
    Column,
    CsvLayout,
    RowCheck,
    _batches,
    _checked_file,
    _date,
    _import_claim,
    _import_create,
    _import_get_for_user,
    _import_matched,
    _import_network_ids,
    _nhs_number,
    _shown,
    import_discard,
    risk_import_require_role,
)
from patients.models import (
    FrailtyCategory,
    Patient,
    RiskImport,
    RiskScore,
)

RISK_FILE = CsvLayout(
    columns=(
        NHS_NUMBER,
        Column(
            "risk_score",
            "risk score",
            "Risk score",
            True,
            ("risk score", "risk_score", "score"),
            "A number from 0 to 100, with at most one decimal place",
        ),
        Column(
            "frailty_category",
            "eFI category",
            "eFI category",
            False,
            ("eFI category", "efi", "frailty_category"),
            "Fit, mild, moderate or severe, or leave it empty",
        ),
        Column(
            "score_date",
            "score date",
            "Score date",
            True,
            ("score date", "score_date", "scored_on", "date"),
            "The date of the result, like 2026-03-02 or 02/03/2026, not in the future",
        ),
    ),
    holds="the risk scores",
    rows_of="scores",
)

# "fit" and "Fit", "mild" and "Mild frailty": eFI exports use either.
_CATEGORIES = {value: value for value in FrailtyCategory.values} | {
    label.casefold(): value for value, label in FrailtyCategory.choices
}


def _score(text: str, separator: str) -> tuple[Decimal | None, str]:
    if separator == ";":
        # A semicolon file comes from a locale that writes 85,5 for 85.5.
        text = text.replace(",", ".")
    if not text:
        return None, "The risk score is missing"
    match = _NUMBER.match(text)
    if match is None:
        return None, f"The risk score “{_shown(text)}” is not a number"
    score = Decimal(text)
    if not 0 <= score <= 100:
        return None, f"The risk score {text} is out of range: it must be from 0 to 100"
    if len((match.group(1) or "").rstrip("0")) > 1:
        # Rounding would move people across the threshold unseen: ask instead.
        return None, f"The risk score {text} has more than one decimal place: round it to one"
    return score.quantize(Decimal("0.1")).copy_abs(), ""  # "-0" is 0.0


def _risk_row_check(*, today: dt.date) -> RowCheck:
    """Each row's checks, with no database query; a person may be in a file once."""
    first_line_of: dict[str, int] = {}

    def check(value, line, separator):
        problems = []
        number, problem = _nhs_number(value("nhs_number"))
        problems += [problem] if problem else []
        score, problem = _score(value("risk_score"), separator)
        problems += [problem] if problem else []
        category_text = " ".join(value("frailty_category").split()).casefold()
        category = _CATEGORIES.get(category_text, "") if category_text else ""
        if category_text and not category:
            problems.append(
                f"The eFI category “{_shown(value('frailty_category'))}” is not one of fit, "
                "mild, moderate or severe"
            )
        scored_on, problem = _date(value("score_date"), today)
        problems += [problem] if problem else []
        if number is not None:
            if number in first_line_of:
                problems.append(
                    f"This NHS number is also on line {first_line_of[number]}: "
                    "a person can be in the file only once"
                )
            else:
                first_line_of[number] = line
        if problems:
            return None, problems
        return [line, number, str(score), category, scored_on.isoformat()], []

    return check


def risk_import_validate(*, by: User, filename: str, content: bytes) -> RiskImport:
    """Check a whole uploaded file of risk scores and keep the result.

    Guarantees: only a navigator or admin may upload (PermissionDenied);
    nothing on the register changes; no query per row (the file is checked
    without looking anyone up). The import is stored as ``validated`` with
    every valid row and every problem by line number. A file that cannot be
    read as a whole (too large, empty, not UTF-8 CSV, mixed separators,
    missing columns) is stored with that one problem on line 0, no rows and
    a row count of 0."""
    risk_import_require_role(user=by)
    checked = _checked_file(
        content, layout=RISK_FILE, check_row=_risk_row_check(today=timezone.localdate())
    )
    return _import_create(RiskImport, by=by, filename=filename, checked=checked)


@transaction.atomic
def risk_import_apply(*, by: User, risk_import: RiskImport) -> RiskImport:
    """Apply the valid rows of a checked import, once.

    Guarantees: only the uploader, still a navigator or admin, may apply
    (PermissionDenied); a second confirm (a double submit) returns the
    already-applied import and changes nothing; a discarded import is
    refused. Rows match only people the uploader may see, in the networks
    where they may import, so no other network's record is touched. Every
    matched row is kept as a RiskScore; the patient's latest score, its date
    and eFI category change only when the row's date is the same as or later
    than the patient's (a blank category keeps the one they had). One
    transaction, with a number of queries that grows per thousand rows, not
    per row.

    The returned import also carries ``matched_patient_ids`` and
    ``matched_network_ids``: whom this call reached (empty when it had
    already been applied), for the caller's access event."""
    already = _import_claim(risk_import, by=by, require_role=risk_import_require_role)
    if already is not None:
        return already
    now = risk_import.applied_at
    matched_ids, network_ids = [], set()
    people = (
        Patient.objects.visible_to(by)
        .filter(practice__network_id__in=_import_network_ids(by))
        .only("pk", "nhs_number", "risk_score", "risk_scored_on", "frailty_category")
        .annotate(network_id=F("practice__network_id"))
    )
    for batch in _batches(risk_import.valid_rows, BATCH_SIZE):
        row_of = {row[1]: row for row in batch}
        scores, changed = [], []
        for patient in people.filter(nhs_number__in=list(row_of)):
            _, _, score_text, category, scored_on_text = row_of[patient.nhs_number]
            score, scored_on = Decimal(score_text), dt.date.fromisoformat(scored_on_text)
            scores.append(
                RiskScore(
                    patient_id=patient.pk,
                    score=score,
                    frailty_category=category,
                    scored_on=scored_on,
                    imported_by=by,
                )
            )
            # An older result goes into the history only: the patient keeps
            # their newer one.
            if patient.risk_scored_on is None or scored_on >= patient.risk_scored_on:
                patient.risk_score, patient.risk_scored_on = score, scored_on
                patient.frailty_category = category or patient.frailty_category
                patient.updated_at = now
                changed.append(patient)
            matched_ids.append(patient.pk)
            network_ids.add(patient.network_id)
        RiskScore.objects.bulk_create(scores, batch_size=BATCH_SIZE)
        if changed:
            Patient.objects.bulk_update(
                changed,
                ["risk_score", "risk_scored_on", "frailty_category", "updated_at"],
                batch_size=BATCH_SIZE,
            )
    _import_matched(
        risk_import, count=len(matched_ids), patient_ids=matched_ids, network_ids=network_ids
    )
    return risk_import


def risk_import_discard(*, by: User, risk_import: RiskImport) -> RiskImport:
    """As ``import_discard``."""
    return import_discard(by=by, an_import=risk_import)


def risk_import_get_for_user(*, user, import_id) -> RiskImport:
    return _import_get_for_user(RiskImport, user=user, import_id=import_id)
