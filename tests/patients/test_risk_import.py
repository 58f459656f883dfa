"""Risk-stratification import: the whole file is checked first and every bad
row reported by line; nothing changes until the uploader confirms, and then
only the valid rows, through the access gate."""

import datetime as dt
import itertools
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent, ChangeEvent
from mdtcare.core import nhs_number
from patients import imports
from patients.models import Patient, RiskImport, RiskScore
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db

HEADER = "NHS number,risk score,eFI category,score date"
TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def today(time_machine):
    """Every test runs on 10 March 2026 (London), so "in the future" is fixed."""
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
    return TODAY


@pytest.fixture
def unknown_numbers():
    """Valid NHS numbers of no one on the register."""
    return nhs_number.test_range_numbers(start=900_000)


def csv_file(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *rows]).encode() + newline.encode()


def validate(user, content: bytes, filename: str = "scores.csv") -> RiskImport:
    return imports.risk_import_validate(by=user, filename=filename, content=content)


def file_error(risk_import: RiskImport) -> str:
    """The one file-level problem of an import that could not be read."""
    assert risk_import.valid_rows == []
    assert risk_import.row_count == 0
    [(line, reason)] = risk_import.errors
    assert line == 0
    return reason


# --- checking the file -----------------------------------------------------------


def test_a_valid_file_is_checked_without_changing_anyone(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)

    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},85.5,moderate,2026-03-01"))

    assert risk_import.status == RiskImport.Status.VALIDATED
    assert risk_import.created_by == navigator
    assert risk_import.row_count == 1
    assert risk_import.valid_rows == [[2, patient.nhs_number, "85.5", "moderate", "2026-03-01"]]
    assert risk_import.errors == []
    patient.refresh_from_db()
    assert patient.risk_score is None
    assert not RiskScore.objects.exists()


def test_every_bad_row_is_reported_with_its_line_number_and_reason(navigator, unknown_numbers):
    good, duplicated = next(unknown_numbers), next(unknown_numbers)
    content = csv_file(
        f"{good},85,fit,2026-03-01",
        "1234567890,50,,2026-03-01",
        f"{next(unknown_numbers)},101,,2026-03-01",
        f"{next(unknown_numbers)},12.25,,2026-03-01",
        f"{next(unknown_numbers)},high,,2026-03-01",
        f"{next(unknown_numbers)},50,very frail,2026-03-01",
        f"{next(unknown_numbers)},50,,31/02/2026",
        f"{next(unknown_numbers)},50,,2026-03-11",
        f"{duplicated},60,,01/03/2026",
        f"{duplicated},61,,02/03/2026",
        ",,mild,",
    )

    risk_import = validate(navigator, content)

    assert risk_import.row_count == 11
    assert [row[0] for row in risk_import.valid_rows] == [2, 10]
    assert risk_import.errors == [
        [3, "This is not a valid NHS number: check the digits and try again"],
        [4, "The risk score 101 is out of range: it must be from 0 to 100"],
        [5, "The risk score 12.25 has more than one decimal place: round it to one"],
        [6, "The risk score “high” is not a number"],
        [7, "The eFI category “very frail” is not one of fit, mild, moderate or severe"],
        [
            8,
            "The score date “31/02/2026” is not a date: write it like 2026-03-02 or 02/03/2026",
        ],
        [9, "The score date 11 March 2026 is in the future"],
        [11, "This NHS number is also on line 10: a person can be in the file only once"],
        [12, "The NHS number is missing"],
        [12, "The risk score is missing"],
        [12, "The score date is missing"],
    ]


def test_a_row_with_more_values_than_the_header_is_reported(navigator, unknown_numbers):
    risk_import = validate(
        navigator, csv_file(f"{next(unknown_numbers)},85,fit,2026-03-01,LS1 4AP")
    )

    assert risk_import.errors == [[2, "This row has 5 values but the header row has 4"]]


def test_a_missing_optional_value_at_the_end_of_a_row_is_blank(navigator, unknown_numbers):
    number = next(unknown_numbers)

    risk_import = validate(
        navigator, csv_file(f"{number},85,2026-03-01", header="NHS number,score,date,eFI")
    )

    assert risk_import.valid_rows == [[2, number, "85.0", "", "2026-03-01"]]


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("nhs_number,risk_score,frailty_category,score_date", "9990000026,70,mild,2026-03-01"),
        ("NHS number,Risk score,eFI category,Score date", "9990000026,70,mild,2026-03-01"),
        ("  NHS Number , SCORE ,EFI, Scored_On ", "9990000026,70,mild,2026-03-01"),
        ("Date,efi,Score,NHS_NUMBER", "2026-03-01,mild,70,9990000026"),
        ('"NHS number","risk score","eFI category","date"', "9990000026,70,mild,2026-03-01"),
    ],
)
def test_header_names_are_matched_whatever_their_case_and_spaces(navigator, header, row):
    risk_import = validate(navigator, csv_file(row, header=header))

    assert risk_import.errors == []
    assert risk_import.valid_rows == [[2, "9990000026", "70.0", "mild", "2026-03-01"]]


def test_the_efi_category_is_read_whatever_its_case_or_as_its_full_name(navigator, unknown_numbers):
    rows = [f"{next(unknown_numbers)},50,{name},2026-03-01" for name in ("FIT", "Severe frailty")]

    risk_import = validate(navigator, csv_file(*rows))

    assert [row[3] for row in risk_import.valid_rows] == ["fit", "severe"]


def test_dates_are_read_as_iso_or_day_month_year(navigator, unknown_numbers):
    rows = [
        f"{next(unknown_numbers)},50,,{date}" for date in ("2026-03-02", "02/03/2026", "2/3/2026")
    ]

    risk_import = validate(navigator, csv_file(*rows))

    assert [row[4] for row in risk_import.valid_rows] == ["2026-03-02"] * 3


def test_a_file_with_a_byte_order_mark_and_windows_line_endings_is_read(navigator, unknown_numbers):
    number = next(unknown_numbers)
    content = b"\xef\xbb\xbf" + csv_file(f"{number},85,fit,2026-03-01", newline="\r\n")

    risk_import = validate(navigator, content)

    assert risk_import.errors == []
    assert risk_import.valid_rows == [[2, number, "85.0", "fit", "2026-03-01"]]


def test_extra_columns_are_accepted_and_listed_as_ignored(navigator, unknown_numbers):
    number = next(unknown_numbers)
    content = csv_file(
        f"X1,{number},85,Riverside,2026-03-01,", header="Ref,NHS number,score,practice,date,"
    )

    risk_import = validate(navigator, content)
    report = imports.import_report(risk_import)

    assert report.ignored_columns == ["Ref", "practice", "column 6 (no heading)"]
    assert report.row_errors == []
    assert report.file_errors == []
    assert report.valid_count == 1
    assert risk_import.valid_rows == [[2, number, "85.0", "", "2026-03-01"]]


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file(
    navigator, unknown_numbers
):
    content = csv_file("", f"{next(unknown_numbers)},85,,2026-03-01", ",,,", "bad,85,,2026-03-01")

    risk_import = validate(navigator, content)

    assert risk_import.row_count == 2
    assert [row[0] for row in risk_import.valid_rows] == [3]
    assert risk_import.errors == [[5, "Enter the NHS number as 10 digits, like 485 777 3456"]]


def test_a_quoted_value_over_two_lines_keeps_the_following_line_numbers(navigator, unknown_numbers):
    content = csv_file(
        f'{next(unknown_numbers)},85,,2026-03-01,"a note\nover two lines"',
        "bad,85,,2026-03-01,",
        header=HEADER.replace("eFI category", "eFI") + ",note",
    )

    risk_import = validate(navigator, content)

    assert risk_import.errors[-1] == [4, "Enter the NHS number as 10 digits, like 485 777 3456"]


def test_a_semicolon_separated_file_is_read_with_decimal_commas(navigator, unknown_numbers):
    number = next(unknown_numbers)
    content = csv_file(f"{number};85,5;mild;01/03/2026", header=HEADER.replace(",", ";"))

    risk_import = validate(navigator, content)

    assert risk_import.errors == []
    assert risk_import.valid_rows == [[2, number, "85.5", "mild", "2026-03-01"]]


def _workbook() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty. Choose the CSV file with the risk scores."),
        (b"\n \r\n", "The file is empty. Choose the CSV file with the risk scores."),
        (b"\xef\xbb\xbf", "The file is empty. Choose the CSV file with the risk scores."),
        (HEADER.encode() + b"\n\n", "The file has a header row but no rows of scores below it."),
        (_workbook(), "This is an Excel workbook (or another kind of file), not a CSV file."),
        (b"%PDF-1.7\n...", "This is a PDF, not a CSV file."),
        (
            f"{HEADER}\n9990000026,85,,2026-03-01\n".encode("utf-16"),
            "The file is saved as Unicode (UTF-16) text or is not a text file",
        ),
        (
            f"{HEADER}\n9990000026,85,,2026-03-01\n".encode("utf-16-le"),
            "The file is saved as Unicode (UTF-16) text or is not a text file",
        ),
        (
            f"{HEADER},note\n9990000026,85,,2026-03-01,ok\n9990000034,85,,2026-03-01,café\n".encode(
                "latin-1"
            ),
            "Line 3 has a character that is not UTF-8: the file is saved in another encoding",
        ),
        (
            csv_file("9990000026;85;fit;2026-03-01"),
            "The file mixes commas and semicolons as separators: line 1 uses commas and "
            "line 2 uses semicolons.",
        ),
        (
            b"NHS number,risk score;eFI category;score date\n9990000026,85,fit,2026-03-01\n",
            "The header row mixes commas and semicolons as separators.",
        ),
        (
            csv_file("9990000026,85", header="NHS number,risk score"),
            "The header row (line 1) has no score date column.",
        ),
        (
            csv_file("85", header="score"),
            "The header row (line 1) has no NHS number or score date column.",
        ),
        (
            csv_file("9990000026,85,90,2026-03-01", header="NHS number,score,risk score,date"),
            "Two columns are both read as the risk score: “score” and “risk score”.",
        ),
        (
            b"9990000026,85,fit,2026-03-01\n9990000034,85,fit,2026-03-01\n",
            "This file seems to start with scores: add the header row.",
        ),
        (
            b"NHS number\trisk score\tscore date\n9990000026\t85\t2026-03-01\n",
            "This file is separated by tabs",
        ),
        (
            b"<html><body><p>Not a CSV file</p></body></html>\n",
            "The header row (line 1) has no NHS number, risk score or score date column.",
        ),
    ],
    ids=[
        "empty",
        "only-blank-lines",
        "only-a-byte-order-mark",
        "header-only",
        "excel-workbook",
        "pdf",
        "utf-16",
        "utf-16-without-bom",
        "latin-1",
        "mixed-separators",
        "mixed-separators-in-the-header",
        "missing-column",
        "one-column",
        "two-columns-for-one",
        "no-header",
        "tab-separated",
        "not-csv-at-all",
    ],
)
def test_a_file_that_cannot_be_read_is_kept_with_one_problem_and_no_rows(
    navigator, content, message
):
    risk_import = validate(navigator, content)

    assert message in file_error(risk_import)


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_wrongly_encoded_file_is_told_to_be_saved_as_csv_utf8(navigator, encoding):
    content = f"{HEADER}\n9990000026,85,,2026-03-01\n£,85,,2026-03-01\n".encode(encoding)

    assert "CSV UTF-8" in file_error(validate(navigator, content))


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(navigator, settings):
    settings.IMPORT_MAX_BYTES = 1024

    risk_import = validate(navigator, csv_file(*["9990000026,85,,2026-03-01"] * 50))

    assert file_error(risk_import) == (
        "The file is larger than 1 KB. Split it into files of 1 KB or less and upload each of them."
    )


def test_the_size_limit_is_five_megabytes_by_default(settings):
    del settings.IMPORT_MAX_BYTES

    assert imports.max_upload_bytes() == 5 * 1024 * 1024
    assert imports.size_label(imports.max_upload_bytes()) == "5 MB"


def test_validating_10000_rows_takes_a_bounded_number_of_queries(
    navigator, django_assert_max_num_queries
):
    numbers = itertools.islice(nhs_number.test_range_numbers(start=200_000), 10_000)
    content = csv_file(
        *(f"{number},{n % 1001 / 10},fit,2026-03-01" for n, number in enumerate(numbers))
    )

    # The role check (2) and the insert: no query per row.
    with django_assert_max_num_queries(5):
        risk_import = validate(navigator, content)

    assert risk_import.row_count == 10_000
    assert len(risk_import.valid_rows) == 10_000
    assert risk_import.errors == []


# --- who may import --------------------------------------------------------------


@pytest.mark.parametrize("persona", ["matron", "chair", "outsider"])
def test_only_navigators_and_admins_may_upload(personas, persona):
    with pytest.raises(PermissionDenied):
        validate(getattr(personas, persona), csv_file("9990000026,85,,2026-03-01"))
    assert not RiskImport.objects.exists()


@pytest.mark.parametrize("persona", ["navigator", "admin"])
def test_navigators_and_admins_may_upload(personas, persona):
    assert validate(getattr(personas, persona), csv_file("9990000026,85,,2026-03-01")).pk


# --- applying it -------------------------------------------------------------------


def test_confirming_applies_only_the_valid_rows(navigator, practice_a):
    good, bad = PatientFactory(practice=practice_a), PatientFactory(practice=practice_a)
    risk_import = validate(
        navigator,
        csv_file(
            f"{good.nhs_number},85.5,moderate,2026-03-01", f"{bad.nhs_number},185,,2026-03-01"
        ),
    )

    applied = imports.risk_import_apply(by=navigator, risk_import=risk_import)

    assert applied.status == RiskImport.Status.APPLIED
    assert applied.matched_count == 1
    assert applied.applied_at is not None
    good.refresh_from_db()
    assert (good.risk_score, good.risk_scored_on, good.frailty_category) == (
        Decimal("85.5"),
        dt.date(2026, 3, 1),
        "moderate",
    )
    [score] = RiskScore.objects.all()
    assert (score.patient, score.score, score.imported_by) == (good, Decimal("85.5"), navigator)
    bad.refresh_from_db()
    assert bad.risk_score is None
    stored = RiskImport.objects.get(pk=risk_import.pk)
    assert (stored.status, stored.matched_count) == (RiskImport.Status.APPLIED, 1)


def test_rows_matching_no_one_are_counted_as_not_found(navigator, practice_a, unknown_numbers):
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(
        navigator,
        csv_file(f"{patient.nhs_number},85,,2026-03-01", f"{next(unknown_numbers)},90,,2026-03-01"),
    )

    applied = imports.risk_import_apply(by=navigator, risk_import=risk_import)

    assert applied.matched_count == 1
    assert imports.import_report(applied).not_found_count == 1
    assert applied.matched_patient_ids == [patient.pk]


def test_two_imports_keep_both_scores_and_the_latest_is_on_the_patient(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    first = validate(navigator, csv_file(f"{patient.nhs_number},60,mild,2026-01-05"))
    imports.risk_import_apply(by=navigator, risk_import=first)
    second = validate(navigator, csv_file(f"{patient.nhs_number},82,moderate,2026-03-01"))

    imports.risk_import_apply(by=navigator, risk_import=second)

    assert list(patient.risk_scores.values_list("score", "scored_on")) == [
        (Decimal("82.0"), dt.date(2026, 3, 1)),
        (Decimal("60.0"), dt.date(2026, 1, 5)),
    ]
    patient.refresh_from_db()
    assert (patient.risk_score, patient.risk_scored_on, patient.frailty_category) == (
        Decimal("82.0"),
        dt.date(2026, 3, 1),
        "moderate",
    )


def test_an_older_score_goes_into_the_history_without_replacing_a_newer_one(navigator, practice_a):
    patient = PatientFactory(
        practice=practice_a,
        risk_score=Decimal("82.0"),
        risk_scored_on=dt.date(2026, 3, 1),
        frailty_category="moderate",
    )
    older = validate(navigator, csv_file(f"{patient.nhs_number},40,fit,2025-12-01"))

    applied = imports.risk_import_apply(by=navigator, risk_import=older)

    assert applied.matched_count == 1
    assert patient.risk_scores.get().score == Decimal("40.0")
    patient.refresh_from_db()
    assert (patient.risk_score, patient.risk_scored_on, patient.frailty_category) == (
        Decimal("82.0"),
        dt.date(2026, 3, 1),
        "moderate",
    )


def test_a_score_of_the_same_date_replaces_the_patients_score(navigator, practice_a):
    patient = PatientFactory(
        practice=practice_a, risk_score=Decimal("82.0"), risk_scored_on=dt.date(2026, 3, 1)
    )
    same_day = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))

    imports.risk_import_apply(by=navigator, risk_import=same_day)

    patient.refresh_from_db()
    assert patient.risk_score == Decimal("84.0")


def test_a_row_without_an_efi_category_keeps_the_patients_category(navigator, practice_a):
    patient = PatientFactory(
        practice=practice_a, frailty_category="severe", risk_scored_on=dt.date(2026, 1, 1)
    )
    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))

    imports.risk_import_apply(by=navigator, risk_import=risk_import)

    patient.refresh_from_db()
    assert (patient.risk_score, patient.frailty_category) == (Decimal("84.0"), "severe")
    assert patient.risk_scores.get().frailty_category == ""


def test_the_patients_change_is_in_the_change_history(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))

    imports.risk_import_apply(by=navigator, risk_import=risk_import)

    change = ChangeEvent.objects.get(
        table_name="patients_patient",
        row_id__in=[str(patient.pk), patient.pk.hex],
        operation="update",
    )
    assert "risk_score" in change.after


def test_confirming_twice_applies_once(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))
    imports.risk_import_apply(by=navigator, risk_import=risk_import)

    again = imports.risk_import_apply(by=navigator, risk_import=risk_import)
    stale = imports.risk_import_apply(
        by=navigator, risk_import=RiskImport.objects.get(pk=risk_import.pk)
    )

    assert again.status == stale.status == RiskImport.Status.APPLIED
    assert again.matched_count == 1
    assert RiskScore.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_the_same_moment_apply_once(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))
    both_loaded = threading.Barrier(2)
    results, failures = [], []

    def confirm():
        try:
            stale = RiskImport.objects.get(pk=risk_import.pk)
            both_loaded.wait(timeout=10)
            results.append(imports.risk_import_apply(by=navigator, risk_import=stale))
        except Exception as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert [r.status for r in results] == [RiskImport.Status.APPLIED] * 2
    assert RiskScore.objects.count() == 1
    assert RiskImport.objects.get(pk=risk_import.pk).matched_count == 1


def test_only_the_uploader_may_confirm_or_discard(navigator, practice_a, network_a):
    colleague = UserFactory(username="navigator2")
    MembershipFactory(user=colleague, network=network_a, role=Membership.Role.NAVIGATOR)
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))

    with pytest.raises(PermissionDenied):
        imports.risk_import_apply(by=colleague, risk_import=risk_import)
    with pytest.raises(PermissionDenied):
        imports.risk_import_discard(by=colleague, risk_import=risk_import)
    assert RiskImport.objects.get(pk=risk_import.pk).status == RiskImport.Status.VALIDATED


def test_an_uploader_who_is_no_longer_a_navigator_cannot_confirm(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))
    Membership.objects.filter(user=navigator).update(role=Membership.Role.MEMBER)

    with pytest.raises(PermissionDenied):
        imports.risk_import_apply(by=navigator, risk_import=risk_import)
    assert not RiskScore.objects.exists()


def test_a_discarded_import_forgets_its_rows_and_cannot_be_confirmed(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(
        navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01", "bad,84,,2026-03-01")
    )

    discarded = imports.risk_import_discard(by=navigator, risk_import=risk_import)
    again = imports.risk_import_discard(by=navigator, risk_import=risk_import)

    assert discarded.status == again.status == RiskImport.Status.DISCARDED
    assert discarded.valid_rows == []
    assert imports.import_report(discarded).valid_count == 1
    assert imports.import_report(discarded).rows_with_errors == 1
    with pytest.raises(ValidationError, match="discarded"):
        imports.risk_import_apply(by=navigator, risk_import=discarded)
    assert not RiskScore.objects.exists()


def test_an_applied_import_cannot_be_discarded(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    risk_import = validate(navigator, csv_file(f"{patient.nhs_number},84,,2026-03-01"))
    imports.risk_import_apply(by=navigator, risk_import=risk_import)

    with pytest.raises(ValidationError, match="already been imported"):
        imports.risk_import_discard(by=navigator, risk_import=risk_import)


def test_a_file_without_valid_rows_cannot_be_confirmed(navigator):
    risk_import = validate(navigator, csv_file("bad,84,,2026-03-01"))

    with pytest.raises(ValidationError, match="no valid rows"):
        imports.risk_import_apply(by=navigator, risk_import=risk_import)
    assert RiskImport.objects.get(pk=risk_import.pk).status == RiskImport.Status.VALIDATED


def test_a_navigator_of_another_network_matches_no_one_in_network_a(
    personas, practice_a, network_b
):
    patient = PatientFactory(practice=practice_a)
    Membership.objects.filter(user=personas.outsider).update(role=Membership.Role.NAVIGATOR)
    risk_import = validate(
        personas.outsider, csv_file(f"{patient.nhs_number},95,severe,2026-03-01")
    )

    applied = imports.risk_import_apply(by=personas.outsider, risk_import=risk_import)

    assert applied.matched_count == 0
    assert applied.matched_patient_ids == []
    patient.refresh_from_db()
    assert patient.risk_score is None
    assert not RiskScore.objects.exists()


def test_a_navigator_matches_only_the_networks_where_they_navigate(
    navigator, practice_a, practice_b, network_b
):
    # A navigator of North who is a plain member of South sees South's people
    # but may not import their scores.
    MembershipFactory(user=navigator, network=network_b, role=Membership.Role.MEMBER)
    north, south = PatientFactory(practice=practice_a), PatientFactory(practice=practice_b)
    risk_import = validate(
        navigator,
        csv_file(f"{north.nhs_number},90,,2026-03-01", f"{south.nhs_number},90,,2026-03-01"),
    )

    applied = imports.risk_import_apply(by=navigator, risk_import=risk_import)

    assert applied.matched_patient_ids == [north.pk]
    south.refresh_from_db()
    assert south.risk_score is None


# Applying a file: the role check (2), the claim, the count and the savepoint
# around it (2), then per batch of 1,000 rows a look-up, an insert and an
# update. PostgreSQL takes a batch in one statement each; Django 5.2 assumes
# SQLite's old limit of 999 parameters per statement, so there each batch's
# insert and update are split in about 7 statements each: still a fixed
# number per batch, never one per row.
APPLY_QUERY_BOUND = {"postgresql": 12, "sqlite": 36}


@pytest.mark.parametrize("rows", [100, 2_000])
def test_confirming_takes_the_same_bounded_number_of_queries_for_100_or_2000_rows(
    navigator, practice_a, rows, django_assert_max_num_queries
):
    numbers = list(itertools.islice(nhs_number.test_range_numbers(start=300_000), rows))
    Patient.objects.bulk_create(
        PatientFactory.build(practice=practice_a, nhs_number=number) for number in numbers
    )
    risk_import = validate(
        navigator,
        csv_file(*(f"{number},{n % 100},fit,2026-03-01" for n, number in enumerate(numbers))),
    )

    with django_assert_max_num_queries(APPLY_QUERY_BOUND[connection.vendor]):
        applied = imports.risk_import_apply(by=navigator, risk_import=risk_import)

    assert applied.matched_count == rows
    assert RiskScore.objects.count() == rows
    assert Patient.objects.filter(risk_scored_on=dt.date(2026, 3, 1)).count() == rows


# --- the pages -----------------------------------------------------------------------


def upload(client, content: bytes, name: str = "scores.csv"):
    return client.post(
        reverse("patients:risk_import"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_the_upload_page_names_the_columns_it_reads(client, navigator):
    client.force_login(navigator)

    response = client.get(reverse("patients:risk_import"))

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.text
    assert 'type="file"' in response.text
    for name in ("nhs_number", "risk_score", "eFI category", "scored_on", "At most 5 MB"):
        assert name in response.text


def test_an_admin_may_open_the_upload_page(client, admin_user):
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)

    assert client.get(reverse("patients:risk_import")).status_code == 200


@pytest.mark.parametrize("persona", ["matron", "chair", "outsider"])
def test_other_roles_get_403_on_the_upload_page(client, personas, persona):
    client.force_login(getattr(personas, persona))

    get = client.get(reverse("patients:risk_import"))
    post = upload(client, csv_file("9990000026,85,,2026-03-01"))

    assert get.status_code == post.status_code == 403
    assert "You do not have permission to do this" in get.text
    assert not RiskImport.objects.exists()


def test_an_uploaded_file_goes_on_to_its_report(client, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(navigator)

    response = upload(
        client, csv_file(f"{patient.nhs_number},85,,2026-03-01", "bad,90,,2026-03-01")
    )

    risk_import = RiskImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("patients:risk_import_review", args=[risk_import.pk])
    page = client.get(response.url)
    assert "Check the import of scores.csv" in page.text
    assert "Enter the NHS number as 10 digits" in page.text
    assert '<td class="nhsuk-table__cell">3</td>' in page.text
    assert "Import 1 valid row" in page.text
    assert "Only the valid rows will be imported" in page.text
    patient.refresh_from_db()
    assert patient.risk_score is None


def test_choosing_no_file_is_an_error_in_the_error_summary(client, navigator):
    client.force_login(navigator)

    response = client.post(reverse("patients:risk_import"), {})

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert "Select the CSV file with the risk scores" in response.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (HEADER.encode(), "The file has a header row but no rows of scores below it."),
        ("NHS number,score,date\n£\n".encode("latin-1"), "Save As, then “CSV UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_explained_on_the_upload_page(
    client, navigator, content, message
):
    client.force_login(navigator)

    response = upload(client, content)

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert message in response.text
    assert 'href="#id_file"' in response.text


def test_an_oversized_upload_is_explained_on_the_upload_page(client, navigator, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(navigator)

    response = upload(client, csv_file(*["9990000026,85,,2026-03-01"] * 100))

    assert "The file is larger than 100 bytes." in response.text


def test_confirming_on_the_page_imports_and_shows_what_matched(
    client, navigator, practice_a, unknown_numbers
):
    patient = PatientFactory(practice=practice_a)
    client.force_login(navigator)
    upload(
        client,
        csv_file(f"{patient.nhs_number},85,,2026-03-01", f"{next(unknown_numbers)},90,,2026-03-01"),
    )
    risk_import = RiskImport.objects.get()
    url = reverse("patients:risk_import_review", args=[risk_import.pk])

    response = client.post(url, {"action": "apply"})
    page = client.get(url)

    assert response.status_code == 302
    assert response.url == url
    assert "Risk scores imported" in page.text
    assert "1 person&#x27;s score was added" in page.text
    assert "1 valid row did not match anyone" in page.text
    assert "Import 1" not in page.text
    patient.refresh_from_db()
    assert patient.risk_score == Decimal("85.0")


def test_confirming_records_an_access_event_naming_the_matched_people(
    client, navigator, practice_a
):
    patients = PatientFactory.create_batch(2, practice=practice_a)
    client.force_login(navigator)
    upload(client, csv_file(*(f"{p.nhs_number},85,,2026-03-01" for p in patients)))
    risk_import = RiskImport.objects.get()

    client.post(reverse("patients:risk_import_review", args=[risk_import.pk]), {"action": "apply"})

    event = AccessEvent.objects.get(what="risk_import.apply")
    assert event.user == navigator
    assert set(event.patients.values_list("patient_id", flat=True)) == {p.pk for p in patients}
    assert event.reason.startswith("member of North as")


def test_a_double_submitted_confirm_imports_once(client, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(navigator)
    upload(client, csv_file(f"{patient.nhs_number},85,,2026-03-01"))
    url = reverse("patients:risk_import_review", args=[RiskImport.objects.get().pk])

    client.post(url, {"action": "apply"})
    second = client.post(url, {"action": "apply"})

    assert second.status_code == 302
    assert RiskScore.objects.count() == 1


def test_discarding_on_the_page_goes_back_to_the_upload(client, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    client.force_login(navigator)
    upload(client, csv_file(f"{patient.nhs_number},85,,2026-03-01"))
    risk_import = RiskImport.objects.get()

    response = client.post(
        reverse("patients:risk_import_review", args=[risk_import.pk]),
        {"action": "discard"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("patients:risk_import")
    assert "The file scores.csv was discarded." in response.text
    assert RiskImport.objects.get().status == RiskImport.Status.DISCARDED
    assert not RiskScore.objects.exists()


def test_an_unknown_action_is_a_bad_request(client, navigator):
    client.force_login(navigator)
    upload(client, csv_file("9990000026,85,,2026-03-01"))

    response = client.post(
        reverse("patients:risk_import_review", args=[RiskImport.objects.get().pk]), {"action": "x"}
    )

    assert response.status_code == 400


def test_confirming_a_discarded_import_says_so(client, navigator):
    client.force_login(navigator)
    upload(client, csv_file("9990000026,85,,2026-03-01"))
    risk_import = RiskImport.objects.get()
    imports.risk_import_discard(by=navigator, risk_import=risk_import)

    response = client.post(
        reverse("patients:risk_import_review", args=[risk_import.pk]),
        {"action": "apply"},
        follow=True,
    )

    assert "This file was discarded. Upload it again to import it." in response.text
    assert "File discarded" in response.text


@pytest.mark.parametrize("persona", ["outsider", "matron"])
def test_someone_elses_import_is_a_404(client, personas, persona):
    risk_import = validate(personas.navigator, csv_file("9990000026,85,,2026-03-01"))
    client.force_login(getattr(personas, persona))
    url = reverse("patients:risk_import_review", args=[risk_import.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "apply"}).status_code == 404
    assert RiskImport.objects.get().status == RiskImport.Status.VALIDATED


def test_the_report_shows_ignored_columns(client, navigator):
    client.force_login(navigator)
    upload(
        client, csv_file("9990000026,85,2026-03-01,LS1", header="nhs_number,score,date,Postcode")
    )

    page = client.get(reverse("patients:risk_import_review", args=[RiskImport.objects.get().pk]))

    assert "Columns ignored" in page.text
    assert "“Postcode”" in page.text


def test_the_table_of_problems_stops_at_500_and_the_download_has_them_all(client, navigator):
    client.force_login(navigator)
    upload(client, csv_file(*["bad,85,,2026-03-01"] * 510, '=HYPERLINK("x"),85,,2026-03-01'))
    url = reverse("patients:risk_import_review", args=[RiskImport.objects.get().pk])

    page = client.get(url)
    download = client.get(url, {"download": "errors"})

    assert page.text.count('<td class="nhsuk-table__cell">Enter the NHS number') == 500
    assert "And 11 more problems, listed in the downloadable report." in page.text
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="scores-problems.csv"' in download["Content-Disposition"]
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "line,problem"
    assert len(lines) == 512
    assert lines[1] == '2,"Enter the NHS number as 10 digits, like 485 777 3456"'
