"""Calendar months as reports count them: in Europe/London time (the
service's TIME_ZONE), named ``YYYY-MM`` in addresses and exports."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def current(cls) -> Month:
        return cls.of(timezone.localdate())

    @classmethod
    def parse(cls, text: str, *, field: str = "month") -> Month:
        """``YYYY-MM``, or ValidationError saying what is wrong."""
        found = _MONTH.match((text or "").strip())
        if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
            raise ValidationError(
                {field: [f"Enter the month as year and month, like 2026-03, not “{text}”"]}
            )
        return cls(int(found.group(1)), int(found.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return self.plus(1).first_day - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return self.first_day.strftime("%B %Y")

    @property
    def short_label(self) -> str:
        return self.first_day.strftime("%b %Y")

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def starts_at(self) -> dt.datetime:
        """Midnight London time on the first day, as an aware datetime."""
        return timezone.make_aware(dt.datetime.combine(self.first_day, dt.time.min))

    def ends_at(self) -> dt.datetime:
        """Midnight London time after the last day (exclusive)."""
        return self.plus(1).starts_at()


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last``, both included."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [first.plus(i) for i in range(max(count, 0))]


def month_range(
    first_text: str | None,
    last_text: str | None,
    *,
    default_months: int = 12,
    max_months: int = 60,
) -> tuple[Month, Month]:
    """The range a report asks for, checked: well-formed, ``from`` not after
    ``to``, neither in the future, at most ``max_months`` long. Without
    values, the last ``default_months`` months up to this one."""
    this_month = Month.current()
    last = Month.parse(last_text, field="to") if last_text else this_month
    first = (
        Month.parse(first_text, field="from") if first_text else last.plus(-(default_months - 1))
    )
    errors: dict[str, list[str]] = {}
    if first > this_month:
        errors["from"] = [f"The first month cannot be after this month ({this_month.label})"]
    if last > this_month:
        errors["to"] = [f"The last month cannot be after this month ({this_month.label})"]
    if not errors and first > last:
        errors["from"] = ["The first month must be the same as or before the last month"]
    if not errors and len(months_between(first, last)) > max_months:
        errors["to"] = [f"Choose at most {max_months} months"]
    if errors:
        raise ValidationError(errors)
    return first, last
