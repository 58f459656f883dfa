"""The user's own account page ("Your account", /account/): their details
only, logged in only, no access event, and one query beyond what every
logged-in page makes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mdtcare.accounts.models import Membership, Organisation
from mdtcare.audit.models import AccessEvent
from tests.factories import MembershipFactory, NetworkFactory
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db

URL = "/account/"


def test_the_account_page_is_at_account():
    assert reverse("accounts:account") == URL


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("persona", "profession", "role"),
    [
        ("matron", "Community matron", "Community matron"),
        ("chair", "GP", "GP chair"),
        ("navigator", "Care navigator", "Care navigator"),
        ("admin", "Service administrator", "Service admin"),
        ("outsider", "Social worker", "MDT member"),
    ],
)
def test_each_role_sees_their_own_details_only(client, personas, persona, profession, role):
    user = getattr(personas, persona)
    client.force_login(user)
    if persona == "admin":
        _verify_second_factor(client, user)

    response = client.get(URL)

    assert response.status_code == 200
    text = response.text
    assert "<h1>Your account</h1>" in text
    assert user.get_full_name() in text
    assert profession in text
    network = "South" if persona == "outsider" else "North"
    assert f'<td class="nhsuk-table__cell">{network}' in text
    assert role in text
    others = {"matron", "chair", "navigator", "admin", "outsider"} - {persona}
    for other in others:
        someone = getattr(personas, other)
        assert someone.get_full_name() not in text
        assert f">{someone.username}<" not in text
    if persona != "outsider":
        assert "South" not in text


def test_it_shows_the_organisation_every_network_and_when_the_session_ends(
    client, navigator, network_b
):
    trust = Organisation.objects.create(
        name="Calder Community Trust", type=Organisation.Type.COMMUNITY_TRUST
    )
    navigator.organisation = trust
    navigator.save(update_fields=["organisation"])
    MembershipFactory(user=navigator, network=network_b, role=Membership.Role.MEMBER)
    client.force_login(navigator)

    text = client.get(URL).text

    assert "Calder Community Trust" in text
    assert "North" in text and "South" in text
    assert "MDT member" in text
    assert "Your session ends after 30 minutes without using mdtcare" in text
    assert "However much you use it, it ends at" in text


def test_someone_in_no_network_is_told_so(client, db):
    from tests.factories import UserFactory

    loner = UserFactory(username="loner")
    client.force_login(loner)

    response = client.get(URL)

    assert response.status_code == 200
    assert "You do not belong to any network yet" in response.text


def test_the_header_links_the_users_name_to_the_account_page(client, matron):
    client.force_login(matron)

    text = client.get(reverse("notifications:list")).text

    assert f'href="{URL}"' in text


def test_it_writes_no_access_event(client, matron):
    client.force_login(matron)

    client.get(URL)

    assert not AccessEvent.objects.exists()


def test_it_costs_one_query_more_than_the_header_and_session(client, matron):
    # A second network, so the header's memberships are more than one row.
    MembershipFactory(user=matron, network=NetworkFactory(), role=Membership.Role.MEMBER)
    client.force_login(matron)
    client.get(URL)  # the session's first write, the unread count cached

    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)

    assert response.status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # The session, the user, the memberships (the header), and the account's own read.
    assert len(reads) == 4
    assert sum('"accounts_organisation"' in sql for sql in reads) == 1


def test_the_session_ends_at_the_absolute_limit_when_that_comes_first(client, chair):
    import time

    from django.utils import timezone

    from mdtcare.accounts.middleware import LOGIN_AT

    client.force_login(chair)
    # Logged in 11 h 50 min ago: the 12-hour limit comes before the idle one.
    logged_in = int(time.time()) - (11 * 3600 + 50 * 60)
    session = client.session
    session[LOGIN_AT] = logged_in
    session.save()

    text = client.get(URL).text

    ends = timezone.localtime(
        timezone.datetime.fromtimestamp(logged_in + 12 * 3600, tz=timezone.get_current_timezone())
    )
    assert f"without using mdtcare: at {ends:%H:%M}, unless" in text
    assert f"However much you use it, it ends at {ends:%H:%M}" in text
