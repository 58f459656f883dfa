"""Cells a spreadsheet would run as a formula are neutralised in every
CSV and XLSX export."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(values):
    return [cell_safe(value) for value in values]
