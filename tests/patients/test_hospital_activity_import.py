"""Hospital activity import: one row per person per month, checked whole
first with every bad row reported by line; nothing changes until the
uploader confirms, and then only the valid rows, a person's month imported
again replacing its counts. The file reading it shares with the risk import
is tested in depth in test_risk_import.py; here, each way an activity file
goes wrong."""

import csv
import datetime as dt
import io
import itertools
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from mdtcare.accounts.models import Membership
from mdtcare.audit.models import AccessEvent
from mdtcare.core import nhs_number
from patients import imports
from patients.models import HospitalActivity, HospitalActivityImport, Patient
from tests.factories import (
    HospitalActivityFactory,
    MembershipFactory,
    PatientFactory,
    UserFactory,
)
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db

HEADER = (
    "nhs_number,month,ae_attendances,non_elective_admissions,elective_admissions,"
    "outpatient_attendances,bed_days"
)
TODAY = dt.date(2026, 3, 10)
EXAMPLE_CSV = (
    Path(django_settings.BASE_DIR) / "static" / "samples" / "hospital-activity-example.csv"
)


@pytest.fixture(autouse=True)
def today(time_machine):
    """Every test runs on 10 March 2026 (London): February is the last month
    that has ended."""
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
    return TODAY


@pytest.fixture
def unknown_numbers():
    """Valid NHS numbers of no one on the register."""
    return nhs_number.test_range_numbers(start=900_000)


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode() + b"\n"


def validate(user, content: bytes, filename: str = "activity.csv") -> HospitalActivityImport:
    return imports.hospital_activity_import_validate(by=user, filename=filename, content=content)


def apply(user, activity_import: HospitalActivityImport) -> HospitalActivityImport:
    return imports.hospital_activity_import_apply(by=user, activity_import=activity_import)


def file_error(activity_import: HospitalActivityImport) -> str:
    """The one file-level problem of an import that could not be read."""
    assert activity_import.valid_rows == []
    assert activity_import.row_count == 0
    [(line, reason)] = activity_import.errors
    assert line == 0
    return reason


def counts(patient) -> dict[str, tuple[int, ...]]:
    return {
        f"{row.month:%Y-%m}": tuple(getattr(row, key) for key in imports.ACTIVITY_COUNTS)
        for row in HospitalActivity.objects.filter(patient=patient)
    }


# --- checking the file -----------------------------------------------------------


def test_a_valid_file_is_checked_without_changing_any_activity(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)

    activity_import = validate(
        navigator,
        csv_file(
            f"{patient.nhs_number},2026-02,1,1,0,2,6", f"{patient.nhs_number},2026-01,0,0,0,0,0"
        ),
    )

    assert activity_import.status == HospitalActivityImport.Status.VALIDATED
    assert activity_import.created_by == navigator
    assert activity_import.row_count == 2
    assert activity_import.valid_rows == [
        [2, patient.nhs_number, "2026-02-01", 1, 1, 0, 2, 6],
        [3, patient.nhs_number, "2026-01-01", 0, 0, 0, 0, 0],
    ]
    assert activity_import.errors == []
    assert not HospitalActivity.objects.exists()


def test_every_bad_row_is_reported_with_its_line_and_a_plain_reason(
    navigator, practice_a, practice_b, unknown_numbers
):
    north = PatientFactory(practice=practice_a).nhs_number
    south = PatientFactory(practice=practice_b).nhs_number
    content = csv_file(
        f"{north},2026-02,1,1,0,2,6",
        "1234567890,2026-02,0,0,0,0,0",
        f"{next(unknown_numbers)},2026-02,0,0,0,0,0",
        f"{south},2026-02,0,0,0,0,0",
        f"{north},Feb 2026,0,0,0,0,0",
        f"{north},2026-13,0,0,0,0,40",
        f"{north},2026-02-15,0,0,0,0,0",
        f"{north},2026-04,0,0,0,0,0",
        f"{north},2026-03,0,0,0,0,0",
        f"{north},2026-01,-1,0,0,0,0",
        f"{north},2025-12,0,1.5,0,0,0",
        f"{north},2025-11,0,0,two,0,0",
        f"{north},2025-02,0,0,0,0,29",
        f"{north},2025-10,45,0,0,0,0",
        f"{north},2025-09,0,0,0,,0",
        f"{north},2026-02-01,0,0,0,0,0",
        ",2025-08,0,0,0,0,0",
        f"{next(unknown_numbers)},2025-13,0,0,0,0,0",
    )

    activity_import = validate(navigator, content)

    assert activity_import.row_count == 18
    assert [row[0] for row in activity_import.valid_rows] == [2]
    assert activity_import.errors == [
        [3, "This is not a valid NHS number: check the digits and try again"],
        [4, "This NHS number is not on the register of your networks"],
        [5, "This NHS number is not on the register of your networks"],
        [6, "The month “Feb 2026” is not a month: write it like 2026-03"],
        [7, "The month “2026-13” is not a month: write it like 2026-03"],
        [7, "The bed days count 40 is more than the days in a month: check it"],
        [8, "The month “2026-02-15” is a day, not a month: write it like 2026-02"],
        [9, "The month April 2026 is in the future"],
        [10, "The month March 2026 has not ended yet: import it once it has"],
        [11, "The A&E attendances count -1 is negative: it must be 0 or more"],
        [12, "The non-elective admissions count “1.5” is not a whole number"],
        [13, "The elective admissions count “two” is not a whole number"],
        [14, "The bed days count 29 is more than the 28 days of February 2025: check it"],
        [15, "The A&E attendances count 45 is more than the 31 days of October 2025: check it"],
        [16, "The outpatient attendances count is missing: write 0 for none"],
        [
            17,
            "This person's February 2026 is also on line 2: a person's month can be in the "
            "file only once",
        ],
        [18, "The NHS number is missing"],
        [19, "This NHS number is not on the register of your networks"],
        [19, "The month “2025-13” is not a month: write it like 2026-03"],
    ]


def test_another_networks_patient_reads_exactly_as_a_number_no_one_has(
    navigator, practice_b, unknown_numbers
):
    south = PatientFactory(practice=practice_b)

    theirs = validate(navigator, csv_file(f"{south.nhs_number},2026-02,0,0,0,0,0"))
    no_ones = validate(navigator, csv_file(f"{next(unknown_numbers)},2026-02,0,0,0,0,0"))

    assert theirs.errors == no_ones.errors == [[2, imports.NOT_ON_REGISTER]]


def test_a_navigator_who_is_only_a_member_of_another_network_cannot_import_its_people(
    navigator, practice_b, network_b
):
    MembershipFactory(user=navigator, network=network_b, role=Membership.Role.MEMBER)
    south = PatientFactory(practice=practice_b)

    activity_import = validate(navigator, csv_file(f"{south.nhs_number},2026-02,0,0,0,0,0"))

    assert activity_import.errors == [[2, imports.NOT_ON_REGISTER]]


@pytest.mark.parametrize(
    ("month", "read_as"),
    [
        ("2026-02", "2026-02-01"),
        ("2026-2", "2026-02-01"),
        ("2026-02-01", "2026-02-01"),
        ("01/02/2026", "2026-02-01"),
    ],
)
def test_a_month_is_read_as_year_and_month_or_its_first_day(navigator, practice_a, month, read_as):
    patient = PatientFactory(practice=practice_a)

    activity_import = validate(navigator, csv_file(f"{patient.nhs_number},{month},0,0,0,0,0"))

    assert activity_import.errors == []
    assert activity_import.valid_rows[0][2] == read_as


def test_bed_days_may_fill_the_month_and_no_more(navigator, practice_a):
    patient = PatientFactory(practice=practice_a).nhs_number

    activity_import = validate(
        navigator, csv_file(f"{patient},2024-02,0,1,0,0,29", f"{patient},2024-01,0,1,0,0,32")
    )

    assert [row[0] for row in activity_import.valid_rows] == [2]
    assert activity_import.errors == [
        [3, "The bed days count 32 is more than the 31 days of January 2024: check it"]
    ]


def test_header_names_are_matched_in_any_order_and_case(navigator, practice_a):
    patient = PatientFactory(practice=practice_a).nhs_number
    header = (
        "Bed days,Outpatient attendances,Elective admissions,Non-elective admissions,A&E,"
        "Month,NHS Number,Practice"
    )

    activity_import = validate(
        navigator, csv_file(f"6,2,0,1,1,2026-02,{patient},Y1", header=header)
    )

    assert activity_import.errors == []
    assert activity_import.valid_rows == [[2, patient, "2026-02-01", 1, 1, 0, 2, 6]]
    assert activity_import.ignored_columns == ["Practice"]


def test_a_semicolon_separated_file_is_read(navigator, practice_a):
    patient = PatientFactory(practice=practice_a).nhs_number

    activity_import = validate(
        navigator, csv_file(f"{patient};2026-02;1;1;0;2;6", header=HEADER.replace(",", ";"))
    )

    assert activity_import.valid_rows == [[2, patient, "2026-02-01", 1, 1, 0, 2, 6]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty. Choose the CSV file with the hospital activity."),
        (
            HEADER.encode() + b"\n",
            "The file has a header row but no rows of monthly counts below it.",
        ),
        (
            csv_file("9990000018,2026-02,1", header="NHS number,month,A&E"),
            "The header row (line 1) has no non-elective admissions, elective admissions, "
            "outpatient attendances or bed days column. The first row must name the columns: "
            "NHS number, month, A&E attendances, non-elective admissions, elective admissions, "
            "outpatient attendances, bed days.",
        ),
        (
            csv_file(
                "9990000018,85,fit,2026-03-01",
                header="NHS number,risk score,eFI category,score date",
            ),
            "The header row (line 1) has no month, A&E attendances,",
        ),
        (
            b"9990000018,2026-02,1,1,0,2,6\n9990000026,2026-02,0,0,0,0,0\n",
            "This file seems to start with monthly counts: add the header row.",
        ),
        (
            csv_file("9990000018,2026-02,1,1,0,2,6").decode().encode("utf-16"),
            "The file is saved as Unicode (UTF-16) text or is not a text file",
        ),
        (
            f"{HEADER},note\n9990000018,2026-02,1,1,0,2,6,ok\n9990000026,2026-02,0,0,0,0,0,£\n".encode(
                "latin-1"
            ),
            "Line 3 has a character that is not UTF-8: the file is saved in another encoding",
        ),
        (b"PK\x03\x04rest-of-a-workbook", "This is an Excel workbook"),
    ],
    ids=[
        "empty",
        "header-only",
        "missing-columns",
        "a-risk-score-file",
        "no-header",
        "utf-16",
        "latin-1",
        "excel-workbook",
    ],
)
def test_a_file_that_cannot_be_read_is_kept_with_one_problem_and_no_rows(
    navigator, content, message
):
    assert message in file_error(validate(navigator, content))


def test_a_wrongly_encoded_file_is_told_to_be_saved_as_csv_utf8(navigator):
    content = f"{HEADER}\n9990000018,2026-02,1,1,0,2,6\n".encode("utf-16")

    assert "CSV UTF-8" in file_error(validate(navigator, content))


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(navigator, settings):
    settings.IMPORT_MAX_BYTES = 1024

    activity_import = validate(navigator, csv_file(*["9990000018,2026-02,0,0,0,0,0"] * 50))

    assert file_error(activity_import) == (
        "The file is larger than 1 KB. Split it into files of 1 KB or less and upload each of them."
    )


@pytest.mark.parametrize(("rows", "queries"), [(30, 4), (1_000, 4), (1_001, 5)])
def test_people_are_looked_up_a_thousand_numbers_a_query(
    navigator, rows, queries, django_assert_num_queries
):
    numbers = itertools.islice(nhs_number.test_range_numbers(start=200_000), rows)
    content = csv_file(*(f"{number},2026-02,0,0,0,1,0" for number in numbers))

    # The role check (2), a look-up per thousand numbers, and the insert.
    with django_assert_num_queries(queries):
        activity_import = validate(navigator, content)

    assert activity_import.row_count == rows
    assert len(activity_import.errors) == rows  # no one is on the register


def test_the_example_file_has_valid_test_numbers_and_imports_cleanly(navigator, practice_a):
    rows = list(csv.DictReader(io.StringIO(EXAMPLE_CSV.read_text(encoding="utf-8"))))
    numbers = sorted({row["nhs_number"] for row in rows})
    for number in numbers:
        assert nhs_number.is_valid(number) and number.startswith("999")
        PatientFactory(practice=practice_a, nhs_number=number)

    activity_import = validate(navigator, EXAMPLE_CSV.read_bytes())

    assert activity_import.errors == []
    assert len(activity_import.valid_rows) == len(rows) >= 4


# --- who may import --------------------------------------------------------------


@pytest.mark.parametrize("persona", ["matron", "chair", "outsider"])
def test_only_navigators_and_admins_may_upload(personas, persona):
    with pytest.raises(PermissionDenied, match="import hospital activity"):
        validate(getattr(personas, persona), csv_file("9990000018,2026-02,0,0,0,0,0"))
    assert not HospitalActivityImport.objects.exists()


@pytest.mark.parametrize("persona", ["navigator", "admin"])
def test_navigators_and_admins_may_upload(personas, persona):
    assert validate(getattr(personas, persona), csv_file("9990000018,2026-02,0,0,0,0,0")).pk


# --- applying it -------------------------------------------------------------------


def test_confirming_imports_only_the_valid_rows(navigator, practice_a):
    first, second = PatientFactory.create_batch(2, practice=practice_a)
    activity_import = validate(
        navigator,
        csv_file(
            f"{first.nhs_number},2026-02,1,1,0,2,6",
            f"{first.nhs_number},2026-01,0,0,1,3,2",
            f"{second.nhs_number},2026-02,0,0,0,-4,0",
        ),
    )

    applied = apply(navigator, activity_import)

    assert applied.status == HospitalActivityImport.Status.APPLIED
    assert applied.applied_at is not None
    assert applied.matched_count == 2
    assert applied.matched_patient_ids == [first.pk]
    assert applied.matched_network_ids == {practice_a.network_id}
    assert counts(first) == {"2026-01": (0, 0, 1, 3, 2), "2026-02": (1, 1, 0, 2, 6)}
    assert counts(second) == {}
    assert HospitalActivity.objects.filter(patient=first).first().created_by == navigator
    stored = HospitalActivityImport.objects.get(pk=activity_import.pk)
    assert (stored.status, stored.matched_count) == ("applied", 2)
    assert imports.import_report(stored).not_found_count == 0


def test_importing_a_persons_month_again_replaces_its_counts(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    HospitalActivityFactory(
        patient=patient, month=dt.date(2026, 1, 1), ae_attendances=5, bed_days=10
    )
    HospitalActivityFactory(patient=patient, month=dt.date(2025, 12, 1), outpatient_attendances=2)

    apply(
        navigator,
        validate(
            navigator,
            csv_file(
                f"{patient.nhs_number},2026-01,1,0,0,0,0", f"{patient.nhs_number},2026-02,0,1,0,0,3"
            ),
        ),
    )

    assert counts(patient) == {
        "2025-12": (0, 0, 0, 2, 0),  # not in the file: kept
        "2026-01": (1, 0, 0, 0, 0),  # replaced, not added to
        "2026-02": (0, 1, 0, 0, 3),
    }


def test_a_failure_part_way_saves_nothing(navigator, practice_a, monkeypatch):
    people = PatientFactory.create_batch(5, practice=practice_a)
    activity_import = validate(
        navigator, csv_file(*(f"{p.nhs_number},2026-02,1,0,0,0,0" for p in people))
    )
    monkeypatch.setattr(imports.activity, "BATCH_SIZE", 2)
    upsert, calls = HospitalActivity.objects.bulk_create, []

    def second_batch_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return upsert(*args, **kwargs)

    monkeypatch.setattr(HospitalActivity.objects, "bulk_create", second_batch_fails)

    with pytest.raises(RuntimeError):
        apply(navigator, activity_import)

    assert not HospitalActivity.objects.exists()
    stored = HospitalActivityImport.objects.get(pk=activity_import.pk)
    assert (stored.status, stored.matched_count) == ("validated", None)


def test_rows_are_applied_in_batches(navigator, practice_a, monkeypatch):
    people = PatientFactory.create_batch(5, practice=practice_a)
    monkeypatch.setattr(imports.activity, "BATCH_SIZE", 2)

    applied = apply(
        navigator,
        validate(navigator, csv_file(*(f"{p.nhs_number},2026-02,1,0,0,0,0" for p in people))),
    )

    assert applied.matched_count == 5
    assert HospitalActivity.objects.count() == 5


def test_confirming_twice_imports_once(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    activity_import = validate(navigator, csv_file(f"{patient.nhs_number},2026-02,1,0,0,0,0"))
    apply(navigator, activity_import)

    again = apply(navigator, activity_import)
    stale = apply(navigator, HospitalActivityImport.objects.get(pk=activity_import.pk))

    assert again.status == stale.status == "applied"
    assert again.matched_patient_ids == []
    assert stale.matched_count == 1
    assert HospitalActivity.objects.count() == 1


def test_someone_who_moved_network_since_the_check_is_not_imported(
    navigator, practice_a, practice_b
):
    staying, moving = PatientFactory.create_batch(2, practice=practice_a)
    activity_import = validate(
        navigator,
        csv_file(
            f"{staying.nhs_number},2026-02,1,0,0,0,0", f"{moving.nhs_number},2026-02,1,0,0,0,0"
        ),
    )
    Patient.objects.filter(pk=moving.pk).update(practice=practice_b)

    applied = apply(navigator, activity_import)

    assert applied.matched_count == 1
    assert imports.import_report(applied).not_found_count == 1
    assert counts(moving) == {}


def test_only_the_uploader_may_confirm_or_discard(navigator, practice_a, network_a):
    colleague = UserFactory(username="navigator2")
    MembershipFactory(user=colleague, network=network_a, role=Membership.Role.NAVIGATOR)
    patient = PatientFactory(practice=practice_a)
    activity_import = validate(navigator, csv_file(f"{patient.nhs_number},2026-02,1,0,0,0,0"))

    with pytest.raises(PermissionDenied):
        apply(colleague, activity_import)
    with pytest.raises(PermissionDenied):
        imports.hospital_activity_import_discard(by=colleague, activity_import=activity_import)
    assert HospitalActivityImport.objects.get().status == "validated"


def test_an_uploader_who_is_no_longer_a_navigator_cannot_confirm(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    activity_import = validate(navigator, csv_file(f"{patient.nhs_number},2026-02,1,0,0,0,0"))
    Membership.objects.filter(user=navigator).update(role=Membership.Role.MEMBER)

    with pytest.raises(PermissionDenied):
        apply(navigator, activity_import)
    assert not HospitalActivity.objects.exists()


def test_a_discarded_import_forgets_its_rows_and_cannot_be_confirmed(navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    activity_import = validate(
        navigator, csv_file(f"{patient.nhs_number},2026-02,1,0,0,0,0", "bad,2026-02,0,0,0,0,0")
    )

    discarded = imports.hospital_activity_import_discard(
        by=navigator, activity_import=activity_import
    )

    assert discarded.status == "discarded"
    assert discarded.valid_rows == []
    assert imports.import_report(discarded).valid_count == 1
    with pytest.raises(ValidationError, match="discarded"):
        apply(navigator, discarded)
    assert not HospitalActivity.objects.exists()


def test_a_file_without_valid_rows_cannot_be_confirmed(navigator):
    activity_import = validate(navigator, csv_file("bad,2026-02,0,0,0,0,0"))

    with pytest.raises(ValidationError, match="no valid rows"):
        apply(navigator, activity_import)


# --- the pages -----------------------------------------------------------------------

UPLOAD = "patients:hospital_activity_import"
REVIEW = "patients:hospital_activity_import_review"


def upload(client, content: bytes, name: str = "activity.csv"):
    return client.post(
        reverse(UPLOAD), {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    return client


def test_the_upload_page_describes_the_columns_and_offers_an_example(admin_client):
    response = admin_client.get(reverse(UPLOAD))

    assert response.status_code == 200
    assert "<h1>Import hospital activity</h1>" in response.text
    assert 'enctype="multipart/form-data"' in response.text
    for name in ("ae_attendances", "Non-elective admissions", "bed_days", "At most 5 MB"):
        assert name in response.text
    assert 'href="/static/samples/hospital-activity-example.csv" download' in response.text
    assert f'href="{reverse("patients:risk_import")}"' in response.text


def test_the_admins_navigation_and_the_risk_import_page_link_to_it(admin_client):
    page = admin_client.get(reverse("patients:risk_import"))

    assert page.text.count(f'href="{reverse(UPLOAD)}"') == 2  # the menu and the page
    assert "Hospital activity import" in page.text


@pytest.mark.parametrize("persona", ["matron", "chair", "outsider"])
def test_other_roles_get_403(client, personas, persona):
    client.force_login(getattr(personas, persona))

    get = client.get(reverse(UPLOAD))
    post = upload(client, csv_file("9990000018,2026-02,0,0,0,0,0"))

    assert get.status_code == post.status_code == 403
    assert not HospitalActivityImport.objects.exists()


def test_an_admin_uploads_reads_the_report_and_confirms(admin_client, admin_user, practice_a):
    first, second = PatientFactory.create_batch(2, practice=practice_a)
    content = csv_file(
        f"{first.nhs_number},2026-01,1,1,0,2,6",
        f"{first.nhs_number},2026-02,0,0,0,1,0",
        f"{second.nhs_number},2026-02,2,0,0,0,-1",
        f"{second.nhs_number},2026-01,0,0,0,0,0",
        "123,2026-02,0,0,0,0,0",
    )

    response = upload(admin_client, content)

    activity_import = HospitalActivityImport.objects.get()
    url = reverse(REVIEW, args=[activity_import.pk])
    assert response.status_code == 302
    assert response.url == url
    page = admin_client.get(url)
    assert "Check the import of activity.csv" in page.text
    assert '<td class="nhsuk-table__cell">4</td>' in page.text
    assert "The bed days count -1 is negative: it must be 0 or more" in page.text
    assert "Enter the NHS number as 10 digits" in page.text
    assert "Only the valid rows will be imported" in page.text
    assert "Import 3 valid rows" in page.text
    assert not HospitalActivity.objects.exists()

    confirmed = admin_client.post(url, {"action": "apply"})
    page = admin_client.get(url)

    assert confirmed.status_code == 302
    assert confirmed.url == url
    assert "Hospital activity imported" in page.text
    assert "3 rows were imported" in page.text
    assert "Import 3" not in page.text
    assert counts(first) == {"2026-01": (1, 1, 0, 2, 6), "2026-02": (0, 0, 0, 1, 0)}
    assert counts(second) == {"2026-01": (0, 0, 0, 0, 0)}
    event = AccessEvent.objects.get(what="hospital_activity_import.apply")
    assert event.user == admin_user
    assert set(event.patients.values_list("patient_id", flat=True)) == {first.pk, second.pk}
    assert event.reason.startswith("member of North as")


def test_choosing_no_file_is_an_error_in_the_error_summary(admin_client):
    response = admin_client.post(reverse(UPLOAD), {})

    assert "nhsuk-error-summary" in response.text
    assert "Select the CSV file with the hospital activity" in response.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        ("nhs_number,month\n£\n".encode("latin-1"), "Save As, then “CSV UTF-8"),
        (csv_file("x", header="NHS number"), "has no month, A&amp;E attendances"),
    ],
)
def test_a_file_that_cannot_be_read_is_explained_on_the_upload_page(admin_client, content, message):
    response = upload(admin_client, content)

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert message in response.text
    assert 'href="#id_file"' in response.text


@pytest.mark.parametrize("persona", ["outsider", "navigator"])
def test_someone_elses_import_is_a_404(client, personas, persona):
    activity_import = validate(personas.admin, csv_file("9990000018,2026-02,0,0,0,0,0"))
    client.force_login(getattr(personas, persona))
    url = reverse(REVIEW, args=[activity_import.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "apply"}).status_code == 404
    assert client.post(url, {"action": "discard"}).status_code == 404
    assert HospitalActivityImport.objects.get().status == "validated"


def test_discarding_on_the_page_goes_back_to_the_upload(admin_client, practice_a):
    patient = PatientFactory(practice=practice_a)
    upload(admin_client, csv_file(f"{patient.nhs_number},2026-02,1,0,0,0,0"))

    response = admin_client.post(
        reverse(REVIEW, args=[HospitalActivityImport.objects.get().pk]),
        {"action": "discard"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse(UPLOAD)
    assert "The file activity.csv was discarded." in response.text
    assert not HospitalActivity.objects.exists()


def test_the_problems_download_as_csv(admin_client):
    upload(admin_client, csv_file("=1+1,2026-02,0,0,0,0,0"))

    download = admin_client.get(
        reverse(REVIEW, args=[HospitalActivityImport.objects.get().pk]), {"download": "errors"}
    )

    assert 'filename="activity-problems.csv"' in download["Content-Disposition"]
    assert download.content.decode("utf-8-sig").splitlines() == [
        "line,problem",
        '2,"Enter the NHS number as 10 digits, like 485 777 3456"',
    ]


def _people_file(practice, rows: int) -> bytes:
    people = PatientFactory.create_batch(rows, practice=practice)
    return csv_file(*(f"{p.nhs_number},2026-02,1,0,0,2,0" for p in people))


# Both requests: the session, the user and their second factor (3), and the
# session saved in a savepoint (3). Upload: the role check in the view and
# again in the service (4), the look-up, the insert. Confirm: the import,
# two savepoints (4), the role check (2), the claim, the look-up, the upsert,
# the count, the memberships that explain the access event, the event and
# its patients in a savepoint (4).
UPLOAD_QUERIES = 12
CONFIRM_QUERIES = 22


@pytest.mark.parametrize("rows", [2, 30])
def test_uploading_takes_the_same_queries_for_2_or_30_rows(
    admin_client, practice_a, rows, django_assert_num_queries
):
    content = _people_file(practice_a, rows)

    with django_assert_num_queries(UPLOAD_QUERIES):
        response = upload(admin_client, content)

    assert response.status_code == 302
    assert len(HospitalActivityImport.objects.get().valid_rows) == rows


@pytest.mark.parametrize("rows", [2, 30])
def test_confirming_takes_the_same_queries_for_2_or_30_rows(
    admin_client, practice_a, rows, django_assert_num_queries
):
    upload(admin_client, _people_file(practice_a, rows))
    url = reverse(REVIEW, args=[HospitalActivityImport.objects.get().pk])

    with django_assert_num_queries(CONFIRM_QUERIES):
        response = admin_client.post(url, {"action": "apply"})

    assert response.status_code == 302
    assert HospitalActivity.objects.count() == rows


# --- the API -------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def post_file(api, content: bytes, name: str = "activity.csv"):
    return api.post(
        reverse("hospital-activity-import-list"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        format="multipart",
    )


def test_the_api_checks_a_file_and_reports_every_problem(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(navigator)

    response = post_file(
        api,
        csv_file(
            f"{patient.nhs_number},2026-02,1,0,0,2,0", f"{patient.nhs_number},2026-04,0,0,0,0,0"
        ),
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": str(HospitalActivityImport.objects.get().pk),
        "filename": "activity.csv",
        "status": "validated",
        "row_count": 2,
        "valid_count": 1,
        "errors": [{"line": 3, "reason": "The month April 2026 is in the future"}],
        "ignored_columns": [],
        "matched_count": None,
        "not_found_count": None,
        "created_at": body["created_at"],
        "applied_at": None,
    }
    assert not HospitalActivity.objects.exists()


def test_the_api_reports_an_unreadable_file_on_line_0(api, navigator):
    api.force_authenticate(navigator)

    response = post_file(api, b"")

    assert response.status_code == 201
    assert response.json()["errors"] == [
        {"line": 0, "reason": "The file is empty. Choose the CSV file with the hospital activity."}
    ]


def test_an_api_upload_without_a_file_is_a_400_naming_the_field(api, navigator):
    api.force_authenticate(navigator)

    response = api.post(reverse("hospital-activity-import-list"), {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize("persona", ["matron", "chair", "outsider"])
def test_other_roles_get_a_403_from_the_api(api, personas, persona):
    api.force_authenticate(getattr(personas, persona))

    response = post_file(api, csv_file("9990000018,2026-02,0,0,0,0,0"))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role does not allow you to import hospital activity."
    }


def test_only_the_uploader_reads_or_confirms_an_import_through_the_api(api, personas, network_a):
    colleague = UserFactory(username="navigator2")
    MembershipFactory(user=colleague, network=network_a, role=Membership.Role.NAVIGATOR)
    api.force_authenticate(personas.navigator)
    import_id = post_file(api, csv_file("9990000018,2026-02,0,0,0,0,0")).json()["id"]
    detail = reverse("hospital-activity-import-detail", args=[import_id])
    confirm = reverse("hospital-activity-import-confirm", args=[import_id])

    mine = api.get(detail)
    answers = []
    for other in (colleague, personas.outsider, personas.admin):
        api.force_authenticate(other)
        answers += [api.get(detail).status_code, api.post(confirm).status_code]

    assert mine.status_code == 200
    assert set(answers) == {404}
    assert (
        api.get(reverse("hospital-activity-import-detail", args=["not-a-uuid"])).status_code == 404
    )


def test_confirming_through_the_api_imports_once_and_records_whom(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(navigator)
    import_id = post_file(api, csv_file(f"{patient.nhs_number},2026-02,1,0,0,2,0")).json()["id"]
    url = reverse("hospital-activity-import-confirm", args=[import_id])

    first, second = api.post(url), api.post(url)

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "applied"
    assert first.json()["matched_count"] == second.json()["matched_count"] == 1
    assert counts(patient) == {"2026-02": (1, 0, 0, 2, 0)}
    first_event, second_event = AccessEvent.objects.filter(
        what="api.hospital-activity-imports.confirm"
    ).order_by("pk")
    assert list(first_event.patients.values_list("patient_id", flat=True)) == [patient.pk]
    assert second_event.patient_count == 0


def test_confirming_a_discarded_import_through_the_api_is_a_400(api, navigator, practice_a):
    patient = PatientFactory(practice=practice_a)
    api.force_authenticate(navigator)
    import_id = post_file(api, csv_file(f"{patient.nhs_number},2026-02,1,0,0,2,0")).json()["id"]

    discarded = api.post(reverse("hospital-activity-import-discard", args=[import_id]))
    confirmed = api.post(reverse("hospital-activity-import-confirm", args=[import_id]))

    assert discarded.json()["status"] == "discarded"
    assert confirmed.status_code == 400
    assert confirmed.json() == {
        "detail": ["This file was discarded. Upload it again to import it."]
    }
    assert not HospitalActivity.objects.exists()


def test_the_schema_describes_the_hospital_activity_import(api, matron):
    api.force_authenticate(matron)

    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    validate_schema(schema)
    upload = schema["paths"]["/api/v1/hospital-activity-imports/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "201" in upload["responses"]
    assert "/api/v1/hospital-activity-imports/{id}/confirm/" in schema["paths"]
    assert "/api/v1/hospital-activity-imports/{id}/discard/" in schema["paths"]
