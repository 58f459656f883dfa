"""Reading actions for the worklists and the navigator's dashboard, always
through the access gate.

- "My actions": what the user owns, and what their team (their
  organisation) owns with no one person on it yet.
- The worklist: every action of the user's networks, in sections
  (overdue, due this week, unassigned, done lately, or everything still to
  do), filtered and sorted, a page at a time.
- The dashboard: the counts on the navigator's Today page, each the size of
  the list its card links to.

Overdue is ``selectors.actions_with_overdue``'s rule, never written again
here. Every list is three queries however many rows there are: the size
of every section (which is also the page's count), the page's ids in order,
and those rows with the person, owner, team and meeting joined in.

"The user's networks" are all the networks they belong to, whatever their
role in each: the gate's networks, as on the triage queue, the register and
the plans needing attention that the dashboard's cards link to.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from careplans.plan_selectors import plan_counts
from mdtcare.accounts.models import Membership, Organisation, User
from mdtcare.core.gate import get_visible_or_404, network_ids_of
from meetings.models import Action, Meeting
from meetings.selectors import actions_with_overdue
from patients.models import Patient
from patients.selectors import (
    patient_search_filter,
    triage_queue,
)

PAGE_SIZE = 25
STILL_TO_DO = (Action.Status.OPEN, Action.Status.IN_PROGRESS)
# "Due this week": from today to six days on (a week ahead, whatever the day).
WEEK = dt.timedelta(days=6)
RECENTLY_DONE = dt.timedelta(days=14)
# Scheduled meetings this close whose agenda is not published yet.
AGENDA_HORIZON = dt.timedelta(days=14)
# The roles whose page the worklist of the whole network is.
WORKLIST_ROLES = frozenset(
    {Membership.Role.NAVIGATOR, Membership.Role.ADMIN, Membership.Role.GP_CHAIR}
)

# Sections of the worklist, in the order of its tabs.
OPEN = "open"
OVERDUE = "overdue"
THIS_WEEK = "week"
UNASSIGNED = "unassigned"
DONE = "done"
SECTIONS = (
    (OPEN, "Still to do"),
    (OVERDUE, "Overdue"),
    (THIS_WEEK, "Due this week"),
    (UNASSIGNED, "Unassigned"),
    (DONE, f"Done in the last {RECENTLY_DONE.days} days"),
)
# "My actions": the user's own, their team's, or both.
MINE = "mine"
TEAM = "team"
MINE_OR_TEAM = ""
SCOPES = ((MINE_OR_TEAM, "Mine and my team's"), (MINE, "Mine"), (TEAM, "My team's"))

PRIORITY_RANK = Case(
    When(priority=Action.Priority.URGENT, then=Value(0)),
    When(priority=Action.Priority.HIGH, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
SORTS = {
    "due": ("due_on", "priority_rank"),
    "-due": ("-due_on", "priority_rank"),
    "priority": ("priority_rank", "due_on"),
}
SORT_CHOICES = (
    ("due", "Soonest due"),
    ("-due", "Latest due"),
    ("priority", "Most urgent"),
)
OWNER_ME = "me"


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def unassigned_condition() -> Q:
    """No one person owns it: nobody at all, only a team (an organisation),
    or a person whose account has been deactivated."""
    return Q(owner__isnull=True) | Q(owner__is_active=False)


def section_conditions(today: dt.date, now: dt.datetime) -> dict[str, Q]:
    """Each section as a condition on ``actions_with_overdue`` rows."""
    still_to_do = Q(status__in=STILL_TO_DO)
    return {
        OPEN: still_to_do,
        OVERDUE: Q(overdue=True),
        THIS_WEEK: still_to_do & Q(due_on__gte=today, due_on__lte=today + WEEK),
        UNASSIGNED: still_to_do & unassigned_condition(),
        DONE: Q(status=Action.Status.DONE, completed_at__gte=now - RECENTLY_DONE),
    }


def _rows(queryset: QuerySet) -> QuerySet:
    """What a worklist row shows, joined in one query: the person and their
    practice (for the network), the owner, the team and the meeting."""
    return queryset.select_related(
        "patient__practice",
        "owner",
        "owner_organisation",
        "completed_by",
        "discussion__item__meeting",
    ).annotate(priority_rank=PRIORITY_RANK)


def actions_of_networks(user, network_ids=None) -> QuerySet:
    """The actions of the user's networks (the gate's rule: the network kept
    on each action). ``network_ids``, the request's memberships, go into the
    query as values, which PostgreSQL plans better than the gate's subquery
    (it reads just those networks' rows from the indexes)."""
    if network_ids is None:
        return Action.objects.visible_to(user)
    if user is None or not user.is_authenticated or not user.is_active:
        return Action.objects.none()
    return Action.objects.filter(network_id__in=list(network_ids))


def action_get_for_user(*, user, action_id) -> Action:
    """One action through the gate, with ``overdue``; 404 outside it."""
    return get_visible_or_404(_rows(actions_with_overdue(Action.objects.all())), user, pk=action_id)


# --- the worklist ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistFilters:
    """The worklist's section, filters and sort, parsed from a query string.
    A value that is not one of a filter's choices (an unknown priority, a
    malformed id) is dropped, never an error: a stale bookmark shows the
    unfiltered list. An id outside the user's networks matches nothing, as
    the gate applies first."""

    section: str = OPEN
    network: uuid.UUID | None = None
    # "me", a user's id, or nothing.
    owner: str = ""
    priority: str = ""
    status: str = ""
    search: str = ""
    sort: str = "due"
    # "My actions" only: mine, my team's, or both.
    scope: str = MINE_OR_TEAM

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> WorklistFilters:
        section = query.get("section", "")
        owner = query.get("owner", "")
        owner_id = _uuid_or_none(owner)
        priority = query.get("priority", "")
        status = query.get("status", "")
        sort = query.get("sort", "")
        scope = query.get("scope", "")
        return cls(
            section=section if section in dict(SECTIONS) else OPEN,
            network=_uuid_or_none(query.get("network")),
            owner=OWNER_ME if owner == OWNER_ME else (str(owner_id) if owner_id else ""),
            priority=priority if priority in Action.Priority.values else "",
            status=status if status in Action.Status.values else "",
            search=(query.get("q") or "").strip()[:100],
            sort=sort if sort in SORTS else "due",
            scope=scope if scope in dict(SCOPES) else MINE_OR_TEAM,
        )

    def as_query(self, **changes) -> dict[str, str]:
        """The filters as query-string values (the defaults left out), for
        links that change one of them."""
        chosen = replace(self, **changes)
        values = {
            "section": chosen.section if chosen.section != OPEN else "",
            "network": str(chosen.network) if chosen.network else "",
            "owner": chosen.owner,
            "priority": chosen.priority,
            "status": chosen.status,
            "q": chosen.search,
            "sort": chosen.sort if chosen.sort != "due" else "",
            "scope": chosen.scope,
        }
        return {key: value for key, value in values.items() if value}

    @property
    def narrowed(self) -> bool:
        """Anything besides the section and sort is chosen."""
        return bool(self.network or self.owner or self.priority or self.status or self.search)

    def condition(self, user) -> Q:
        """The filters (not the section) as a condition on actions."""
        condition = Q()
        if self.network:
            condition &= Q(patient__practice__network_id=self.network)
        if self.owner == OWNER_ME:
            condition &= Q(owner_id=user.pk)
        elif self.owner:
            condition &= Q(owner_id=self.owner)
        if self.priority:
            condition &= Q(priority=self.priority)
        if self.status:
            condition &= Q(status=self.status)
        if self.search:
            condition &= Q(
                patient__in=Patient.objects.filter(patient_search_filter(self.search)).values("pk")
            )
        return condition


@dataclass
class Worklist:
    """One page of a worklist section, the size of every section (with the
    same filters), and the filters it was read with."""

    filters: WorklistFilters
    page: Page
    counts: dict[str, int]
    sections: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def actions(self) -> list[Action]:
        return list(self.page.object_list)

    @property
    def patient_ids(self) -> list:
        return [action.patient_id for action in self.page.object_list]

    @property
    def network_ids(self) -> set:
        return {action.patient.practice.network_id for action in self.page.object_list}


def _worklist(
    base: QuerySet,
    filters: WorklistFilters,
    *,
    user,
    page_number,
    today: dt.date | None,
    sections=SECTIONS,
) -> Worklist:
    """Three queries: the size of every section, the page's ids, and the
    page's rows."""
    today = _today(today)
    now = timezone.now()
    conditions = section_conditions(today, now)
    actions = actions_with_overdue(base, today=today).filter(filters.condition(user))
    # Every section is in this: the rest (done long ago, cancelled) is never
    # read, and the indexes on (network, status, …) find just these.
    live = actions.filter(
        Q(status__in=STILL_TO_DO)
        | Q(status=Action.Status.DONE, completed_at__gte=now - RECENTLY_DONE)
    )
    # Aliased apart from the annotations ("overdue" is one).
    counted = live.aggregate(
        **{f"in_{key}": Count("pk", filter=conditions[key]) for key, _ in sections}
    )
    counts = {key: counted[f"in_{key}"] for key, _ in sections}
    order = SORTS[filters.sort]
    if filters.section == DONE:
        order = ("-completed_at",)
    # The page's ids first, sorted from the actions alone; then those rows
    # with everything they show joined in. (Joined first, PostgreSQL would
    # join every action of the section before sorting to keep 25.)
    ids = (
        live.filter(conditions[filters.section])
        .annotate(priority_rank=PRIORITY_RANK)
        .order_by(*order, "created_at", "id")
        .values_list("pk", flat=True)
    )
    paginator = Paginator(ids, PAGE_SIZE)
    # The section's size is counted already: no second count of the rows.
    paginator.count = counts[filters.section]
    page = paginator.get_page(page_number)
    page_ids = list(page.object_list)
    rows = {action.pk: action for action in _rows(actions.filter(pk__in=page_ids))}
    page.object_list = [rows[pk] for pk in page_ids]
    return Worklist(
        filters=filters,
        page=page,
        counts=counts,
        sections=[(key, label, counts[key]) for key, label in sections],
    )


def worklist(
    *, user, filters: WorklistFilters | None = None, page_number=1, today=None, network_ids=None
) -> Worklist:
    """Every action of the people of the user's networks, by section
    (``network_ids``: the user's, when the caller has them already)."""
    return _worklist(
        actions_of_networks(user, network_ids),
        filters or WorklistFilters(),
        user=user,
        page_number=page_number,
        today=today,
    )


MY_SECTIONS = ((OPEN, "Still to do"), (OVERDUE, "Overdue"), (DONE, SECTIONS[-1][1]))


def my_actions_condition(user, scope: str = MINE_OR_TEAM) -> Q:
    """The user's own actions, and (``scope``) their team's: those their
    organisation owns with no one person on them."""
    mine = Q(owner_id=user.pk)
    team = (
        Q(owner__isnull=True, owner_organisation_id=user.organisation_id)
        if user.organisation_id
        else Q(pk__in=[])
    )
    return {MINE: mine, TEAM: team}.get(scope, mine | team)


def my_actions(
    *, user, filters: WorklistFilters | None = None, page_number=1, today=None, network_ids=None
) -> Worklist:
    """What the user owns, and their team's unowned actions, by section
    (still to do, overdue, done lately). Only through the gate: an action of
    a network the user has left is not theirs to see."""
    filters = filters or WorklistFilters()
    if filters.section not in dict(MY_SECTIONS):
        filters = replace(filters, section=OPEN)
    # The owner filter is the scope here.
    filters = replace(filters, owner="")
    base = actions_of_networks(user, network_ids).filter(my_actions_condition(user, filters.scope))
    return _worklist(
        base, filters, user=user, page_number=page_number, today=today, sections=MY_SECTIONS
    )


# --- who an action can be given to -----------------------------------------------------------


@dataclass(frozen=True)
class OwnerChoices:
    """Per network of the rows shown: the active members (people) and the
    organisations that serve it (partners and its own practices)."""

    people: dict
    organisations: dict

    def for_network(self, network_id) -> tuple[list[User], list[Organisation]]:
        return self.people.get(network_id, []), self.organisations.get(network_id, [])


def owner_choices(*, network_ids) -> OwnerChoices:
    """Two queries, however many networks and rows."""
    network_ids = set(network_ids)
    people: dict = {network_id: [] for network_id in network_ids}
    for membership in (
        Membership.objects.filter(network_id__in=network_ids, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    ):
        people[membership.network_id].append(membership.user)
    organisations: dict = {network_id: [] for network_id in network_ids}
    for organisation in Organisation.objects.filter(
        Q(network__isnull=True) | Q(network_id__in=network_ids)
    ).order_by("name"):
        for network_id in network_ids:
            if organisation.network_id in (None, network_id):
                organisations[network_id].append(organisation)
    return OwnerChoices(people, organisations)


def worklist_owners(*, user) -> list[User]:
    """Everyone who may own an action in the user's networks, for the
    worklist's owner filter (deactivated people too: their actions are
    still to be found)."""
    return list(
        User.objects.filter(
            pk__in=Membership.objects.filter(network_id__in=network_ids_of(user)).values("user_id")
        ).order_by("last_name", "first_name", "username")
    )


# --- the navigator's dashboard ---------------------------------------------------------------


@dataclass(frozen=True)
class DashboardCounts:
    """The navigator's Today page: each count is the size of the list its
    card links to."""

    overdue_actions: int
    reviews_due: int
    reviews_overdue: int
    referrals_waiting: int
    agendas_to_publish: int
    plans_not_shared: int


def agendas_to_publish(*, user, today: dt.date | None = None) -> QuerySet:
    """Scheduled meetings of the user's networks in the next 14 days whose
    agenda is not published."""
    today = _today(today)
    return Meeting.objects.visible_to(user).filter(
        status=Meeting.Status.SCHEDULED,
        date__gte=today,
        date__lte=today + AGENDA_HORIZON,
        agenda_published_at__isnull=True,
    )


def navigator_dashboard(*, user, today: dt.date | None = None, network_ids=None) -> DashboardCounts:
    """The counts of the navigator's Today page for the user's networks, in
    four queries however much there is:

    - overdue actions (the worklist's overdue section);
    - referrals awaiting triage (the triage queue);
    - agendas to publish (scheduled meetings in the next 14 days whose
      agenda is not published);
    - of the care plans (``careplans.plan_selectors.plan_counts``): reviews
      due within 14 days and overdue (the register's review filters), and
      plans ratified but not shared (the plans needing attention's reason)."""
    today = _today(today)
    overdue = (
        actions_with_overdue(actions_of_networks(user, network_ids), today=today)
        .filter(overdue=True)
        .count()
    )
    plans = plan_counts(user=user, today=today)
    return DashboardCounts(
        overdue_actions=overdue,
        reviews_due=plans.reviews_due,
        reviews_overdue=plans.reviews_overdue,
        referrals_waiting=triage_queue(user=user).count(),
        agendas_to_publish=agendas_to_publish(user=user, today=today).count(),
        plans_not_shared=plans.not_shared,
    )
