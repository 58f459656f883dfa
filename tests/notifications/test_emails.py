"""E-mails say what kind of thing needs attention and link to mdtcare:
never who it is about, nor anything clinical."""

import pytest
from django.core import mail
from django.utils import timezone

from mdtcare.core import nhs_number
from mdtcare.core.templatetags.nhsuk_dates import banner_date, nhs_date
from mdtcare.notifications import emails, tasks
from mdtcare.notifications.models import Notification, NotificationKind, NotificationPreference
from tests.notifications.backends import all_mail_text

pytestmark = pytest.mark.django_db


def test_every_kind_has_its_own_email_words():
    assert set(emails.WORDING) == set(NotificationKind.values)
    assert emails.wording("some_new_kind") == emails.FALLBACK


def test_no_patient_name_nhs_number_date_of_birth_or_clinical_detail_in_any_email(
    matron, navigator, patient, raise_for, monkeypatch, settings
):
    settings.SITE_URL = "https://mdt.example.nhs.uk"
    for kind in NotificationKind.values:
        NotificationPreference.objects.create(user=navigator, kind=kind, delivery="daily_digest")
    rows = []
    for kind in NotificationKind.values:
        rows += raise_for(recipients=[matron, navigator], kind=kind, patient=patient)
    tasks.deliver.apply(args=[[row.pk for row in rows]]).get()
    monkeypatch.setattr(
        tasks.digest_send, "apply_async", lambda args, **o: tasks.digest_send.apply(args=args)
    )
    tasks.digest.apply().get()

    texts = all_mail_text()
    # The matron's, the navigator's urgent one and the navigator's digest.
    assert len(texts) == len(NotificationKind.values) + 2
    dob = patient.date_of_birth
    forbidden = [
        patient.given_name,
        patient.family_name,
        patient.family_name.upper(),
        patient.nhs_number,
        nhs_number.display(patient.nhs_number),
        dob.isoformat(),
        dob.strftime("%d/%m/%Y"),
        banner_date(dob),
        nhs_date(dob),
        str(patient.pk),  # not even the record's address
        patient.postcode,
        patient.practice.name,
        "PHQ",  # the self-harm alert's in-app label is clinical
        "self-harm",
    ]
    for text in texts:
        for value in forbidden:
            assert value.lower() not in text.lower(), value
    for text in texts:
        assert "https://mdt.example.nhs.uk/notifications/" in text


def test_an_email_has_a_text_and_an_html_part_with_the_link(matron, raise_for, settings):
    settings.SITE_URL = "https://mdt.example.nhs.uk"
    [row] = raise_for(recipients=[matron], kind="actions_overdue")

    tasks.deliver.apply(args=[[row.pk]]).get()

    [message] = mail.outbox
    assert message.subject == "You have overdue actions in mdtcare"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert "You have overdue actions in mdtcare." in message.body
    assert "https://mdt.example.nhs.uk/notifications/" in message.body
    assert "https://mdt.example.nhs.uk/notifications/settings/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert 'href="https://mdt.example.nhs.uk/notifications/"' in html
    assert "You have overdue actions in mdtcare." in html


def test_the_digest_lines_count_each_kind_in_plain_words():
    lines = emails.digest_lines(
        {"review_overdue": 1, "referral_received": 3, "meeting_tomorrow": 0, "new_kind": 2}
    )

    assert lines == ["3 new referrals", "1 overdue care plan review", "2 notifications"]


def test_an_urgent_email_stands_out(matron, raise_for):
    [row] = raise_for(recipients=[matron], kind="self_harm_alert")

    tasks.deliver.apply(args=[[row.pk]]).get()

    [message] = mail.outbox
    assert message.body.startswith("URGENT\n\nAn urgent alert needs your attention in mdtcare.")
    assert "#d5281b" in message.alternatives[0][0]  # NHS emergency red
    assert Notification.objects.get().emailed_at <= timezone.now()
