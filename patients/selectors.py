"""Reading the register, always through the access gate."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils import timezone

from careplans.models import Assessment, CarePlan, CarePlanGoal
from careplans.plan_selectors import IN_FORCE, REVIEW_DUE_WITHIN
from mdtcare.accounts.models import Membership, Organisation, User
from mdtcare.core import nhs_number
from mdtcare.core.gate import get_visible_or_404, network_ids_of
from patients.models import (
    Consent,
    EntryStatus,
    EntryStatusChange,
    Patient,
    PatientCondition,
    RegisterEntry,
    RiskScore,
)

_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d %m %Y", "%d.%m.%Y")


def _as_date(text: str) -> dt.date | None:
    for date_format in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def patient_search_filter(text: str) -> Q:
    """Name, NHS number (with or without spaces) or date of birth.

    Each word of a name search must be part of the family or the given name,
    in any case: on PostgreSQL ``UPPER(name) LIKE '%WORD%'``, served by the
    trigram indexes of migration patients 0008 (they index exactly that
    expression, so keep ``icontains`` here or change them together)."""
    text = (text or "").strip()
    if not text:
        return Q()
    digits = nhs_number.normalise(text)
    if digits.isdigit() and len(digits) == 10:
        return Q(nhs_number=digits)
    date = _as_date(text)
    if date is not None:
        return Q(date_of_birth=date)
    query = Q()
    for word in text.split()[:4]:
        query &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    return query


def patient_list(*, user, search: str = ""):
    return (
        Patient.objects.visible_to(user)
        .filter(patient_search_filter(search))
        .select_related("practice", "practice__network")
        .order_by("family_name", "given_name", "id")
    )


def patient_get_for_user(*, user, patient_id) -> Patient:
    """One patient through the gate; 404 if outside it or unknown."""
    return get_visible_or_404(
        Patient.objects.select_related("practice", "practice__network"), user, pk=patient_id
    )


def patient_find_by_nhs_number(*, user, number: str) -> Patient | None:
    """The visible patient with this NHS number (typed with or without spaces)."""
    return Patient.objects.visible_to(user).filter(nhs_number=nhs_number.normalise(number)).first()


def care_plan_versions() -> Prefetch:
    """A person's care plan versions, newest first, with the lead and
    navigator, and their goals with who provides the support (one query
    each), for the pages that show the plan in force."""
    return Prefetch(
        "care_plans",
        queryset=CarePlan.objects.select_related("clinical_lead", "navigator")
        .prefetch_related(
            Prefetch(
                "goals",
                queryset=CarePlanGoal.objects.select_related("provider", "provider_organisation"),
            )
        )
        .order_by("-number", "-created_at"),
    )


def patient_record(*, user, patient_id) -> Patient:
    """A patient with everything the record page shows, in a fixed number of
    queries (one per kind of sub-record, however many of each there are)."""
    entries = RegisterEntry.objects.select_related(
        "clinical_lead", "navigator", "referring_organisation", "created_by"
    ).prefetch_related(
        Prefetch(
            "status_changes",
            queryset=EntryStatusChange.objects.select_related("by").order_by("at", "id"),
        )
    )
    return get_visible_or_404(
        Patient.objects.select_related(
            "practice", "practice__network", "created_by"
        ).prefetch_related(
            Prefetch("entries", queryset=entries.order_by("-referred_on", "-created_at")),
            # The condition and who recorded it in the same query (the timeline
            # shows both), rather than a second query for the conditions.
            Prefetch(
                "conditions",
                queryset=PatientCondition.objects.select_related("condition", "created_by"),
            ),
            "carers",
            Prefetch("consents", queryset=Consent.objects.select_related("recorded_by")),
            # The score history: the change since last time and the timeline.
            Prefetch("risk_scores", queryset=RiskScore.objects.select_related("imported_by")),
            # Holistic assessments, latest first, with who assessed and the
            # amendments their scores are read from (one query each).
            Prefetch(
                "assessments",
                queryset=Assessment.objects.select_related("assessor")
                .prefetch_related("amendments")
                .order_by("-assessed_on", "-created_at"),
            ),
            care_plan_versions(),
        ),
        user,
        pk=patient_id,
    )


def consents_in_force(patient: Patient) -> dict[str, Consent]:
    """The latest decision per topic, from the prefetched consents."""
    latest: dict[str, Consent] = {}
    for consent in patient.consents.all():  # ordered newest first
        latest.setdefault(consent.topic, consent)
    return latest


def open_entry(patient: Patient) -> RegisterEntry | None:
    """The open episode, from the prefetched entries."""
    return next((entry for entry in patient.entries.all() if entry.is_open), None)


def entry_get_for_user(*, user, entry_id) -> RegisterEntry:
    return get_visible_or_404(
        RegisterEntry.objects.select_related(
            "patient", "patient__practice", "clinical_lead", "navigator"
        ),
        user,
        pk=entry_id,
    )


def triage_queue(*, user):
    """Referrals waiting for a decision: urgent first, then oldest first."""
    return (
        RegisterEntry.objects.visible_to(user)
        .filter(status=RegisterEntry.Status.REFERRED)
        .select_related("patient", "patient__practice", "patient__practice__network")
        .order_by("-urgency", "referred_on", "created_at")
    )


def network_practitioners(*, network_id, roles: set[str] | None = None):
    """The members of a network who can be clinical lead or navigator."""
    members = Membership.objects.filter(network_id=network_id)
    if roles:
        members = members.filter(role__in=roles)
    return User.objects.filter(is_active=True, pk__in=members.values("user_id")).order_by(
        "last_name", "first_name"
    )


# --- the register list ----------------------------------------------------------


@dataclass(frozen=True)
class RiskBand:
    """A band of the risk-stratification score (0 to 100): ``lower <= score < upper``."""

    key: str
    label: str
    lower: Decimal | None
    upper: Decimal | None

    def contains(self, score) -> bool:
        return (self.lower is None or score >= self.lower) and (
            self.upper is None or score < self.upper
        )

    def condition(self) -> Q:
        condition = Q(risk_score__isnull=False)
        if self.lower is not None:
            condition &= Q(risk_score__gte=self.lower)
        if self.upper is not None:
            condition &= Q(risk_score__lt=self.upper)
        return condition

    @property
    def definition(self) -> str:
        """The band's range in words (scores have one decimal place)."""
        if self.lower is None:
            return f"under {self.upper}"
        if self.upper is None:
            return f"{self.lower} or more"
        return f"{self.lower} to {self.upper - Decimal('0.1')}"


# The one definition of the risk bands: the filter, the table, the export and
# the hint that explains them all read it.
RISK_BANDS = (
    RiskBand("low", "Low", None, Decimal(50)),
    RiskBand("medium", "Medium", Decimal(50), Decimal(80)),
    RiskBand("high", "High", Decimal(80), None),
)
RISK_NOT_SCORED = "none"


def risk_band_of(score) -> RiskBand | None:
    if score is None:
        return None
    return next(band for band in RISK_BANDS if band.contains(score))


# The status filter: each episode status, plus the two questions people ask
# most ("who is on the caseload", "who was never referred").
STATUS_OPEN = "open"
STATUS_NEVER_REFERRED = "none"
REGISTER_STATUS_CHOICES = (
    (STATUS_OPEN, "Open (referred, accepted or active)"),
    *EntryStatus.choices,
    (STATUS_NEVER_REFERRED, "Never referred"),
)
TIERS = (0, 1, 2, 3)
# The review filter: on the next review date of the care plan in force for
# the person's open episode (``register_rows``' ``plan_next_review_on``).
REVIEW_OVERDUE = "overdue"
REVIEW_DUE = "due"
REVIEW_DUE_OR_OVERDUE = "any"
REGISTER_REVIEW_CHOICES = (
    (REVIEW_OVERDUE, "Overdue"),
    (REVIEW_DUE, f"Due within {REVIEW_DUE_WITHIN.days} days"),
    (REVIEW_DUE_OR_OVERDUE, "Overdue or due"),
)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RegisterFilters:
    """The register's filters, parsed from a query string. A value that
    cannot be one of a filter's choices (an unknown status, a malformed id)
    is dropped, never an error: a stale bookmark shows the unfiltered list
    rather than a broken page. An id outside the user's networks simply
    matches no one, as the gate applies first."""

    network: uuid.UUID | None = None
    practice: uuid.UUID | None = None
    status: str = ""
    tier: int | None = None
    risk: str = ""
    lead: uuid.UUID | None = None
    navigator: uuid.UUID | None = None
    # On the next review date of the care plan in force: "overdue", "due"
    # (within 14 days, not overdue) or "any" (either).
    review: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> RegisterFilters:
        status = query.get("status", "")
        tier = query.get("tier", "")
        risk = query.get("risk", "")
        review = query.get("review", "")
        return cls(
            network=_uuid_or_none(query.get("network")),
            practice=_uuid_or_none(query.get("practice")),
            status=status if status in dict(REGISTER_STATUS_CHOICES) else "",
            tier=int(tier) if tier in {str(t) for t in TIERS} else None,
            risk=risk if risk in {b.key for b in RISK_BANDS} | {RISK_NOT_SCORED} else "",
            lead=_uuid_or_none(query.get("lead")),
            navigator=_uuid_or_none(query.get("navigator")),
            review=review if review in dict(REGISTER_REVIEW_CHOICES) else "",
        )

    def is_set(self) -> bool:
        return self != RegisterFilters()

    @property
    def review_choices(self):
        """What the review filter offers (for the register page's control)."""
        return REGISTER_REVIEW_CHOICES

    def condition(self, today: dt.date | None = None) -> Q:
        """The filters as a condition on ``register_rows``' annotations; the
        review filter counts from ``today`` (London's date unless given)."""
        condition = Q()
        if self.network:
            condition &= Q(practice__network_id=self.network)
        if self.practice:
            condition &= Q(practice_id=self.practice)
        if self.status == STATUS_OPEN:
            condition &= Q(entry_status__in=RegisterEntry.OPEN_STATUSES)
        elif self.status == STATUS_NEVER_REFERRED:
            condition &= Q(entry_status__isnull=True)
        elif self.status:
            condition &= Q(entry_status=self.status)
        if self.tier is not None:
            condition &= Q(entry_tier=self.tier)
        if self.risk == RISK_NOT_SCORED:
            condition &= Q(risk_score__isnull=True)
        elif self.risk:
            condition &= next(b for b in RISK_BANDS if b.key == self.risk).condition()
        if self.lead:
            condition &= Q(entry_lead_id=self.lead)
        if self.navigator:
            condition &= Q(entry_navigator_id=self.navigator)
        if self.review:
            today = today or timezone.localdate()
            due_by = today + REVIEW_DUE_WITHIN
            condition &= {
                REVIEW_OVERDUE: Q(plan_next_review_on__lt=today),
                REVIEW_DUE: Q(plan_next_review_on__gte=today, plan_next_review_on__lte=due_by),
                REVIEW_DUE_OR_OVERDUE: Q(plan_next_review_on__lte=due_by),
            }[self.review]
        return condition


@dataclass(frozen=True)
class RegisterSort:
    """One whitelisted order of the register: ``?sort=<column>`` sorts a
    column ascending, ``?sort=-<column>`` descending."""

    key: str
    column: str
    descending: bool
    order_by: tuple


# column: (fields in ascending order of the column's value, whether a first
# click sorts it descending). Age ascends as the date of birth descends; the
# highest risk and the latest referral are what people look for first.
_SORT_COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "name": (("family_name", "given_name"), False),
    "age": (("-date_of_birth",), False),
    "status": (("entry_status_rank",), False),
    "risk": (("risk_score",), True),
    "referred": (("entry_referred_on",), True),
    # The next care plan review, soonest (or most overdue) first.
    "review": (("plan_next_review_on",), False),
}
DEFAULT_SORT = "name"


def _sort_expressions(fields: tuple[str, ...], descending: bool) -> tuple:
    expressions = []
    for field in fields:
        field_descending = field.startswith("-") != descending
        expression = F(field.lstrip("-"))
        # People with no score, no episode or no referral go last either way.
        expressions.append(
            expression.desc(nulls_last=True)
            if field_descending
            else expression.asc(nulls_last=True)
        )
    return tuple(expressions)


REGISTER_SORTS: dict[str, RegisterSort] = {
    f"{'-' if descending else ''}{column}": RegisterSort(
        key=f"{'-' if descending else ''}{column}",
        column=column,
        descending=descending,
        order_by=_sort_expressions(fields, descending),
    )
    for column, (fields, _) in _SORT_COLUMNS.items()
    for descending in (False, True)
}


def register_sort(key: str | None) -> RegisterSort:
    """The sort named by ``key``, or the default (by name) if it is not one."""
    return REGISTER_SORTS.get(key or "", REGISTER_SORTS[DEFAULT_SORT])


def register_sort_link(*, column: str, current: RegisterSort) -> str:
    """The sort a column header links to: the other direction when the column
    is the current sort, else the column's natural first direction."""
    if current.column == column:
        return column if current.descending else f"-{column}"
    return f"-{column}" if _SORT_COLUMNS[column][1] else column


def _practitioner_name(relation: str):
    """A practitioner's full name (their username if they have none); NULL
    when the episode has nobody in that role."""
    full_name = Trim(
        Concat(f"{relation}__first_name", Value(" "), f"{relation}__last_name"),
    )
    return Coalesce(NullIf(full_name, Value("")), f"{relation}__username")


def register_rows(
    *,
    user,
    search: str = "",
    filters: RegisterFilters | None = None,
    sort: str = DEFAULT_SORT,
):
    """The patients the user may see that match the search and the filters,
    in a whitelisted order (an unknown ``sort`` falls back to by name).

    Each patient is annotated with its latest episode (by referral date):
    ``entry_status``, ``entry_tier``, ``entry_referred_on``, ``entry_lead_id``
    and ``entry_lead_name``, ``entry_navigator_id`` and ``entry_navigator_name``
    — all None for someone never referred — and with ``plan_next_review_on``,
    the next review of the care plan in force (ratified or shared, the latest
    version) of their open episode, None when there is none. They are
    correlated subqueries served by the indexes patients_entry_patient and
    careplans_plan_patient, so a page or an export is one query however
    many rows it has."""
    filters = filters or RegisterFilters()
    chosen = register_sort(sort)
    entries = RegisterEntry.objects.filter(patient=OuterRef("pk")).order_by(
        "-referred_on", "-created_at"
    )

    def latest(field_or_expression):
        """A column of the patient's latest episode."""
        if isinstance(field_or_expression, str):
            return Subquery(entries.values(field_or_expression)[:1])
        return Subquery(entries.annotate(value=field_or_expression).values("value")[:1])

    # A plan stays "ratified" or "shared" when its episode ends (nothing
    # closes it yet): only a plan of an open episode has a review to come.
    in_force = CarePlan.objects.filter(
        patient=OuterRef("pk"),
        status__in=IN_FORCE,
        entry__status__in=RegisterEntry.OPEN_STATUSES,
    ).order_by("-number")
    rows = (
        Patient.objects.visible_to(user)
        .filter(patient_search_filter(search))
        .select_related("practice")
        .annotate(
            entry_status=latest("status"),
            entry_tier=latest("tier"),
            entry_referred_on=latest("referred_on"),
            entry_lead_id=latest("clinical_lead_id"),
            entry_lead_name=latest(_practitioner_name("clinical_lead")),
            entry_navigator_id=latest("navigator_id"),
            entry_navigator_name=latest(_practitioner_name("navigator")),
            plan_next_review_on=Subquery(in_force.values("next_review_on")[:1]),
        )
        .filter(filters.condition())
    )
    if chosen.column == "status":
        # The statuses in the order of the pathway, not of the alphabet,
        # computed inside the one subquery of the latest episode.
        rows = rows.annotate(
            entry_status_rank=latest(
                Case(
                    *(
                        When(status=status, then=Value(rank))
                        for rank, status in enumerate(EntryStatus.values)
                    ),
                    output_field=IntegerField(),
                )
            )
        )
    return rows.order_by(*chosen.order_by, "family_name", "given_name", "id")


@dataclass(frozen=True)
class RegisterRow:
    """One line of the register (page or export), from a ``register_rows`` patient."""

    patient: Patient
    status: str  # "" when never referred
    status_label: str
    tier: int | None
    referred_on: dt.date | None
    lead_name: str
    navigator_name: str
    risk_band: RiskBand | None


def register_row(patient: Patient) -> RegisterRow:
    status = patient.entry_status or ""
    return RegisterRow(
        patient=patient,
        status=status,
        status_label=EntryStatus(status).label if status else "Never referred",
        tier=patient.entry_tier,
        referred_on=patient.entry_referred_on,
        lead_name=patient.entry_lead_name or "",
        navigator_name=patient.entry_navigator_name or "",
        risk_band=risk_band_of(patient.risk_score),
    )


@dataclass(frozen=True)
class RegisterFilterOptions:
    practices: list[Organisation]
    practitioners: list[User]


def register_filter_options(*, user) -> RegisterFilterOptions:
    """What the register's filters offer: the GP practices of the user's
    networks, and the practitioners who are members of them (the choices for
    both clinical lead and navigator). Two queries, whatever the register's size."""
    networks = network_ids_of(user)
    practices = list(
        Organisation.objects.filter(type=Organisation.Type.GP_PRACTICE, network_id__in=networks)
        .select_related("network")
        .order_by("name")
    )
    practitioners = list(
        User.objects.filter(
            pk__in=Membership.objects.filter(network_id__in=networks).values("user_id")
        )
        .order_by("last_name", "first_name", "username")
        # A network has a couple of hundred members, each an option of two
        # selects: only what an option shows (its name, else the username).
        .only("id", "first_name", "last_name", "username")
    )
    return RegisterFilterOptions(practices=practices, practitioners=practitioners)
