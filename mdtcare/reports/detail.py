"""Row-level report exports for commissioners: activity, never people.

The rules of each export are written here once and used by the inline
response, the background task and the API: the header, one COUNT to decide
whether to stream now or in the background, and the rows.

The rows come from a single plain SELECT with joins, read with
``values_list(...).iterator(chunk_size=...)``: no per-row queries and
constant memory however many rows (up to the million actions of the design
ceiling). Dates are Europe/London (the service's TIME_ZONE), worked out from
the stored UTC instants by the database in the same SELECT (so it stays
comparable with ``COPY (SELECT …) TO STDOUT``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.functions import TruncDate

from mdtcare.accounts.models import Network, OrganisationType, Profession
from mdtcare.reports.months import Month
from meetings.models import Action, ActionPriority, ActionSource, ActionStatus

# Rows fetched from the database at a time (a server-side cursor on
# PostgreSQL): large enough to keep round trips few, small enough for memory.
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class DetailExport:
    """One row-level export: its header, the single SELECT behind it, and
    how a selected tuple becomes a row of the file."""

    name: str  # the start of the file name, e.g. "actions-2026-01-to-2026-03"
    title: str  # the XLSX sheet's title
    header: Sequence[str]
    query: QuerySet  # a values_list queryset: one plain SELECT with joins
    row: Callable[[tuple], list]

    def count(self) -> int:
        """How many rows the export will have (one COUNT, no ORDER BY)."""
        return self.query.order_by().count()

    def rows(self, *, chunk_size: int = CHUNK_SIZE) -> Iterator[list]:
        for values in self.query.iterator(chunk_size=chunk_size):
            yield self.row(values)


# --- the actions detail export ------------------------------------------------------------------

ACTIONS_HEADER = [
    "Network code",
    "Network name",
    "Month created",
    "Created on",
    "Due on",
    "Status",
    "Priority",
    "Source",
    "Completed on",
    "Cancelled on",
    "Days to complete",
    "Owner (profession or organisation type)",
    "From an MDT discussion",
]

# Owners are described by what they are, never by who: a person by their
# profession, a team by its organisation's type.
_STATUS = dict(ActionStatus.choices)
_PRIORITY = dict(ActionPriority.choices)
_SOURCE = dict(ActionSource.choices)
_PROFESSION = dict(Profession.choices)
_ORGANISATION_TYPE = dict(OrganisationType.choices)

_ACTION_COLUMNS = (
    "patient__practice__network__code",
    "patient__practice__network__name",
    "created_on",
    "due_on",
    "status",
    "priority",
    "source",
    "completed_on",
    "cancelled_on",
    "owner__profession",
    "owner_organisation__type",
    "discussion_id",
)
# The London dates of the moments, worked out by the database (TruncDate
# uses TIME_ZONE): a million rows are not converted one by one in Python.
_LONDON_DATES = {
    "created_on": TruncDate("created_at"),
    "completed_on": TruncDate("completed_at"),
    "cancelled_on": TruncDate("cancelled_at"),
}


def _action_row(values: tuple) -> list:
    (
        network_code,
        network_name,
        created_on,
        due_on,
        status,
        priority,
        source,
        completed_on,
        cancelled_on,
        owner_profession,
        organisation_type,
        discussion_id,
    ) = values
    # An action reopened after completion (or cancellation) keeps its old
    # timestamp: only the status says whether it is done (or cancelled) now.
    if status != ActionStatus.DONE:
        completed_on = None
    if status != ActionStatus.CANCELLED:
        cancelled_on = None
    if owner_profession:
        owner = _PROFESSION.get(owner_profession, owner_profession)
    elif organisation_type:
        owner = _ORGANISATION_TYPE.get(organisation_type, organisation_type)
    else:
        owner = ""
    return [
        network_code,
        network_name,
        f"{created_on:%Y-%m}",
        created_on,
        due_on,
        _STATUS.get(status, status),
        _PRIORITY.get(priority, priority),
        _SOURCE.get(source, source),
        completed_on or "",
        cancelled_on or "",
        (completed_on - created_on).days if completed_on else "",
        owner,
        "Yes" if discussion_id else "No",
    ]


def actions_detail(networks: Sequence[Network], first: Month, last: Month) -> DetailExport:
    """One row per action created (London time) from the start of ``first``
    to the end of ``last`` for people of ``networks`` (already checked by
    ``reports.access.networks_chosen``), oldest first. No patient identifier
    and no person's name is selected, so none can reach the file."""
    query = (
        Action.objects.filter(
            patient__practice__network_id__in=[network.pk for network in networks],
            created_at__gte=first.starts_at(),
            created_at__lt=last.ends_at(),
        )
        .annotate(**_LONDON_DATES)
        .order_by("created_at", "pk")
        .values_list(*_ACTION_COLUMNS)
    )
    return DetailExport(
        name=f"actions-{first}-to-{last}",
        title="Actions",
        header=ACTIONS_HEADER,
        query=query,
        row=_action_row,
    )


# Each kind of ReportExport, by ReportExport.Kind value.
DETAIL_EXPORTS = {"actions": actions_detail}
