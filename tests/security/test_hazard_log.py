"""The clinical safety hazard log (docs/clinical-safety/hazard-log.md) stays
true: every test it names as the evidence for a control exists, every hazard
has a control with a test, the ratings follow the DCB0129 matrix, and the
hazards every release must address are there."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
HAZARD_LOG = BASE_DIR / "docs" / "clinical-safety" / "hazard-log.md"

# The hazards the log must always hold: id and a phrase from its title.
REQUIRED_HAZARDS = {
    "H-01": "wrong patient",
    "H-02": "care plan overwritten",
    "H-03": "action lost or unowned",
    "H-04": "review missed",
    "H-05": "self-harm",
    "H-06": "instrument scored wrongly",
    "H-07": "wrong network",
    "H-08": "e-mail disclosing patient data",
}

# DCB0129's risk matrix: RISK[likelihood][severity], both rated 1 to 5.
RISK = {
    5: {1: 3, 2: 4, 3: 4, 4: 5, 5: 5},
    4: {1: 2, 2: 3, 3: 3, 4: 4, 5: 5},
    3: {1: 2, 2: 2, 3: 3, 4: 3, 5: 4},
    2: {1: 1, 2: 2, 3: 2, 4: 3, 5: 4},
    1: {1: 1, 2: 1, 3: 2, 4: 2, 5: 3},
}
HIGHEST_RESIDUAL_RISK = 3

HAZARD_HEADING = re.compile(r"^## (H-\d{2}) (.+)$", re.MULTILINE)
SUBHEADING = re.compile(r"^### (.+)$", re.MULTILINE)
CONTROL_START = re.compile(r"^\d+\. ", re.MULTILINE)
TEST_ID = re.compile(r"`(tests/[\w/]+\.py::\w+(?:\[[^\]`]*\])?)`")
RATING = re.compile(
    r"^- \*\*(Initial|Residual) risk:\*\* severity (\d) \([\w ]+\), "
    r"likelihood (\d) \([\w ]+\): risk (\d)$",
    re.MULTILINE,
)


@dataclass
class Hazard:
    id: str
    title: str
    text: str
    controls: list[list[str]] = field(default_factory=list)  # the tests of each control
    ratings: dict[str, tuple[int, int, int]] = field(default_factory=dict)


@cache
def hazards() -> tuple[Hazard, ...]:
    text = HAZARD_LOG.read_text(encoding="utf-8")
    headings = list(HAZARD_HEADING.finditer(text))
    found = []
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        body = text[heading.end() : following.start() if following else len(text)]
        # "Not yet in the log" and any other closing section end the last hazard.
        body = re.split(r"^## ", body, maxsplit=1, flags=re.MULTILINE)[0]
        hazard = Hazard(id=heading.group(1), title=heading.group(2).strip(), text=body)
        sections = SUBHEADING.split(body)
        for name, content in zip(sections[1::2], sections[2::2], strict=True):
            if name.strip().lower() == "controls in the product":
                blocks = CONTROL_START.split(content)[1:]
                hazard.controls = [TEST_ID.findall(block) for block in blocks]
        for kind, severity, likelihood, risk in RATING.findall(body):
            hazard.ratings[kind.lower()] = (int(severity), int(likelihood), int(risk))
        found.append(hazard)
    return tuple(found)


def cited_tests() -> dict[str, list[str]]:
    """Each test id the log names -> the hazards that cite it."""
    cited: dict[str, list[str]] = {}
    for hazard in hazards():
        for tests in hazard.controls:
            for test_id in tests:
                cited.setdefault(test_id, []).append(hazard.id)
    return cited


@cache
def _test_functions(path: str) -> frozenset[str]:
    """The test functions a module defines, as `name` and `Class::name`."""
    tree = ast.parse((BASE_DIR / path).read_text(encoding="utf-8"), filename=path)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return frozenset(name for name in names if name.split("::")[-1].startswith("test"))


def _collected(paths: set[str]) -> set[str]:
    """Node ids pytest collects from these files, parametrised cases included."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *sorted(paths),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return {line.strip() for line in result.stdout.splitlines() if "::" in line}


def test_the_hazard_log_parses_into_hazards():
    ids = [hazard.id for hazard in hazards()]
    assert ids, f"no hazards ('## H-01 Title') found in {HAZARD_LOG}"
    assert len(ids) == len(set(ids)), f"a hazard id is used twice: {ids}"
    assert ids == sorted(ids), f"hazards are out of order: {ids}"


def test_every_test_the_hazard_log_names_exists():
    missing = []
    parametrised_cases = {}
    for test_id, hazard_ids in sorted(cited_tests().items()):
        path, name = test_id.split("::", 1)
        where = f"{test_id} (cited by {', '.join(sorted(set(hazard_ids)))})"
        if not (BASE_DIR / path).is_file():
            missing.append(f"{where}: no such file")
        elif "[" in name:
            # One case of a parametrised test: only pytest knows its ids.
            parametrised_cases[test_id] = where
        elif name not in _test_functions(path):
            # A name without brackets stands for all of a parametrised test's cases.
            missing.append(f"{where}: no such test in {path}")
    if parametrised_cases:
        collected = _collected({test_id.split("::")[0] for test_id in parametrised_cases})
        missing += [
            f"{where}: pytest collects no such case"
            for test_id, where in parametrised_cases.items()
            if test_id not in collected
        ]

    assert not missing, (
        "the hazard log cites tests that do not exist; a control has lost its evidence. "
        f"Update {HAZARD_LOG.relative_to(BASE_DIR)} (and have the clinical safety officer "
        "review it) or restore the test:\n  " + "\n  ".join(missing)
    )


def test_every_hazard_has_a_control_and_every_control_a_test():
    problems = []
    for hazard in hazards():
        if not hazard.controls:
            problems.append(f"{hazard.id}: no numbered item under '### Controls in the product'")
        problems += [
            f"{hazard.id}: control {number} names no test"
            for number, tests in enumerate(hazard.controls, start=1)
            if not tests
        ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("hazard_id", "phrase"), REQUIRED_HAZARDS.items())
def test_the_required_hazard_is_in_the_log(hazard_id, phrase):
    titles = {hazard.id: hazard.title for hazard in hazards()}
    assert hazard_id in titles, f"{hazard_id} ({phrase}) is missing from the hazard log"
    assert phrase in titles[hazard_id].lower(), (
        f"{hazard_id} should be the hazard about '{phrase}', but is '{titles[hazard_id]}'"
    )


def test_every_rating_follows_the_risk_matrix():
    problems = []
    for hazard in hazards():
        if set(hazard.ratings) != {"initial", "residual"}:
            problems.append(f"{hazard.id}: needs an initial and a residual risk line")
            continue
        for kind, (severity, likelihood, risk) in hazard.ratings.items():
            expected = RISK.get(likelihood, {}).get(severity)
            if risk != expected:
                problems.append(
                    f"{hazard.id}: {kind} severity {severity} x likelihood {likelihood} "
                    f"is risk {expected}, not {risk}"
                )
        if hazard.ratings["residual"][2] > hazard.ratings["initial"][2]:
            problems.append(f"{hazard.id}: the residual risk is above the initial risk")
        if hazard.ratings["residual"][2] > HIGHEST_RESIDUAL_RISK:
            problems.append(f"{hazard.id}: a residual risk above 3 may not be released")
    assert not problems, "\n".join(problems)


def test_the_summary_table_agrees_with_each_hazard():
    text = HAZARD_LOG.read_text(encoding="utf-8")
    rows = {
        row.group(1): (row.group(2).strip(), int(row.group(3)), int(row.group(4)))
        for row in re.finditer(
            r"^\| (H-\d{2}) \| ([^|]+) \| (\d) \| (\d) \|$", text, flags=re.MULTILINE
        )
    }
    expected = {
        hazard.id: (hazard.title, hazard.ratings["initial"][2], hazard.ratings["residual"][2])
        for hazard in hazards()
    }
    assert rows == expected
