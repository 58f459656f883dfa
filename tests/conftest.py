"""Shared personas (STYLE.md): a matron, a GP chair, a navigator and an
admin in network A ("North"), and an outsider who belongs to network B
("South") only."""

from types import SimpleNamespace

import pytest

from mdtcare.accounts.models import Membership, Profession
from tests.factories import MembershipFactory, NetworkFactory, PracticeFactory, UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture
def network_a(db):
    return NetworkFactory(name="North", code="north")


@pytest.fixture
def network_b(db):
    return NetworkFactory(name="South", code="south")


@pytest.fixture
def practice_a(network_a):
    return PracticeFactory(network=network_a, name="Riverside Medical Centre")


@pytest.fixture
def practice_b(network_b):
    return PracticeFactory(network=network_b, name="Harbour Lane Surgery")


def _persona(username, profession, network, role):
    user = UserFactory(username=username, profession=profession)
    MembershipFactory(user=user, network=network, role=role)
    return user


@pytest.fixture
def matron(network_a):
    return _persona("matron", Profession.COMMUNITY_MATRON, network_a, Membership.Role.MATRON)


@pytest.fixture
def chair(network_a):
    return _persona("chair", Profession.GP, network_a, Membership.Role.GP_CHAIR)


@pytest.fixture
def navigator(network_a):
    return _persona("navigator", Profession.CARE_NAVIGATOR, network_a, Membership.Role.NAVIGATOR)


@pytest.fixture
def admin_user(network_a):
    user = _persona("admin", Profession.SERVICE_ADMIN, network_a, Membership.Role.ADMIN)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def outsider(network_b):
    return _persona("outsider", Profession.SOCIAL_WORKER, network_b, Membership.Role.MEMBER)


@pytest.fixture
def personas(matron, chair, navigator, admin_user, outsider):
    return SimpleNamespace(
        matron=matron, chair=chair, navigator=navigator, admin=admin_user, outsider=outsider
    )


def pytest_collection_modifyitems(config, items):
    """Browser tests run when MDTCARE_E2E=1; tests needing a real worker when
    REDIS_URL is set; PostgreSQL-only tests when the database is PostgreSQL."""
    import os

    from django.db import connection

    skips = {
        "e2e": (os.environ.get("MDTCARE_E2E") != "1", "browser tests need MDTCARE_E2E=1"),
        "worker": (not os.environ.get("REDIS_URL"), "needs REDIS_URL and a real worker"),
        "postgres": (connection.vendor != "postgresql", "needs PostgreSQL (DATABASE_URL)"),
    }
    for item in items:
        for marker, (skip, reason) in skips.items():
            if skip and marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))
