"""NHS numbers: 10 digits whose last is a Modulus 11 check digit.

Stored as 10 digits without spaces, shown as ``999 123 4567``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError

TEST_RANGE_PREFIX = "999"
_SEPARATORS = re.compile(r"[\s-]")


def normalise(value: str) -> str:
    """Digits only: spaces and hyphens people type are removed."""
    return _SEPARATORS.sub("", value or "")


def check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits; None when the total gives
    10, which means no valid number starts with these nine digits."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True)
    )
    result = 11 - (total % 11)
    if result == 11:
        return 0
    if result == 10:
        return None
    return result


def is_valid(number: str) -> bool:
    return (
        len(number) == 10
        and number.isdigit()
        and len(set(number)) > 1
        and check_digit(number[:9]) == int(number[9])
    )


def validate(value: str) -> str:
    """Return the normalised number or raise ValidationError with a message
    a person can act on."""
    number = normalise(value)
    if not number.isdigit() or len(number) != 10:
        raise ValidationError("Enter the NHS number as 10 digits, like 485 777 3456", code="format")
    if len(set(number)) == 1:
        raise ValidationError("Enter a real NHS number, not repeated digits", code="repeated")
    if check_digit(number[:9]) != int(number[9]):
        raise ValidationError(
            "This is not a valid NHS number: check the digits and try again", code="check_digit"
        )
    if number.startswith(TEST_RANGE_PREFIX) and not settings.NHS_NUMBER_ALLOW_TEST_RANGE:
        raise ValidationError(
            "NHS numbers starting 999 are test numbers and cannot be used here", code="test_range"
        )
    return number


def display(number: str) -> str:
    return f"{number[:3]} {number[3:6]} {number[6:]}" if len(number) == 10 else number


def test_range_numbers(start: int = 0):
    """Valid numbers of the 999 test range in order, from the ``start``-th
    nine-digit stem on (for demo and test data)."""
    stem = start
    while stem < 1_000_000:
        first_nine = f"{TEST_RANGE_PREFIX}{stem:06d}"
        digit = check_digit(first_nine)
        if digit is not None and len(set(first_nine + str(digit))) > 1:
            yield first_nine + str(digit)
        stem += 1
