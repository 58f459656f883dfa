"""Service admins manage users, organisations and networks on the admin pages."""

import pytest
from django.urls import reverse

from mdtcare.core.demo import _service_admin_group
from tests.patients.test_gate import _verify_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def service_admin(client, admin_user):
    admin_user.groups.add(_service_admin_group())
    client.force_login(admin_user)
    _verify_second_factor(client, admin_user)
    return admin_user


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:accounts_user_changelist",
        "admin:accounts_network_changelist",
        "admin:accounts_organisation_changelist",
        "admin:accounts_membership_changelist",
        "admin:audit_accessevent_changelist",
        "admin:audit_changeevent_changelist",
    ],
)
def test_service_admin_opens_the_admin_pages(client, service_admin, matron, url_name):
    assert client.get(reverse(url_name)).status_code == 200


def test_other_roles_are_sent_to_log_in_from_the_admin(client, matron):
    client.force_login(matron)

    response = client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 302


def test_audit_rows_cannot_be_changed_in_the_admin(client, service_admin):
    from mdtcare.audit.models import ChangeEvent

    event = ChangeEvent.objects.first()

    response = client.post(
        reverse("admin:audit_changeevent_delete", args=[event.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert ChangeEvent.objects.filter(pk=event.pk).exists()
