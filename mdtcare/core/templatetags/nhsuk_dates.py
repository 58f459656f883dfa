"""Dates as people in the NHS write them: ``2 March 2026``, 24-hour times."""

import datetime as dt

from django import template
from django.utils import timezone

from mdtcare.core import nhs_number

register = template.Library()


@register.filter
def nhs_date(value):
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return f"{value.day} {value:%B %Y}"


@register.filter
def nhs_datetime(value):
    if not value:
        return ""
    value = timezone.localtime(value)
    return f"{value.day} {value:%B %Y} at {value:%H:%M}"


@register.filter
def banner_date(value):
    """``02-Mar-1941``, as patient banners show a date of birth."""
    return f"{value:%d-%b-%Y}" if value else ""


@register.filter
def age_on(date_of_birth, today=None):
    today = today or timezone.localdate()
    return (
        today.year
        - date_of_birth.year
        - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
    )


@register.filter
def nhs_number_display(value):
    return nhs_number.display(value or "")
