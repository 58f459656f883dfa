"""Static checks that CI runs with the tests: bandit finds no medium or high
issue in the project's code, and Django's deployment check passes with the
production settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parents[2]

# What bandit does not scan, and why. Everything else is scanned, migrations
# included (a data migration is code that runs against patient records).
BANDIT_EXCLUDED = {
    ".venv": "third-party packages, not ours to fix",
    "tests": "test code is never deployed; it asserts, and logs in with fixed passwords",
    "benchmarks": "the performance harness is never deployed; it starts servers by subprocess",
    "var": "the demo's database, mail and exports: data, not code",
    "static": "vendored front-end files; no Python",
}
BANDIT_FAILING_SEVERITIES = {"MEDIUM", "HIGH"}

# Checks the settings silence, each with the reason written beside it in
# mdtcare/settings.py. Silencing another needs its reason here too.
SILENCED_CHECKS_WITH_REASONS = {
    "axes.W006": "lock-out by username only: locking by IP address would lock out a whole "
    "NHS site behind one address after a few colleagues' typos",
}

# Warnings the deployment check may give for the configuration
# `.env.example` documents, each with the reason it is the right choice there.
ACCEPTED_ENV_EXAMPLE_WARNINGS = {
    "security.W021": "HSTS preload is left to the deploying organisation (.env.example sets "
    "SECURE_HSTS_PRELOAD=false): it binds every subdomain of its domain to HTTPS and is hard "
    "to undo; the settings' own default turns it on, and the defaults are checked below",
}

# Variables a fresh process must not inherit from the test run (test_settings
# switches on the demo) or from a developer's shell.
INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def test_bandit_finds_no_medium_or_high_issue_in_the_project_code():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bandit",
            "--recursive",
            ".",
            "--exclude",
            ",".join(f"./{folder}" for folder in BANDIT_EXCLUDED),
            "--format",
            "json",
            "--quiet",
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # bandit exits 1 when it finds anything at all (low findings included);
    # the report decides.
    assert result.stdout, f"bandit printed no report:\n{result.stderr}"
    report = json.loads(result.stdout)

    assert not report["errors"], "bandit could not scan:\n" + "\n".join(
        f"  {error['filename']}: {error['reason']}" for error in report["errors"]
    )
    scanned = [name for name in report["metrics"] if name != "_totals"]
    assert any("/migrations/" in name for name in scanned), "bandit did not scan the migrations"
    assert not any(
        name.startswith(f"./{folder}/") for name in scanned for folder in BANDIT_EXCLUDED
    ), "bandit scanned a folder it should have left out"

    findings = [
        finding
        for finding in report["results"]
        if finding["issue_severity"] in BANDIT_FAILING_SEVERITIES
    ]
    assert not findings, (
        "bandit found medium or high issues; fix each, or justify it inline with "
        "`# nosec BXXX` and the reason:\n"
        + "\n".join(
            f"  {f['filename']}:{f['line_number']} {f['test_id']} "
            f"({f['issue_severity']}/{f['issue_confidence']}) {f['issue_text']}"
            for f in findings
        )
    )


def _production_environment(tmp_path: Path, documented: dict[str, str]) -> dict[str, str]:
    environment = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    environment.update(documented)
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "mdtcare.settings",
            "DEBUG": "false",
            "MDTCARE_DEMO": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "mdt.example.nhs.uk",
            "CSRF_TRUSTED_ORIGINS": "https://mdt.example.nhs.uk",
            # The deployment check reads no data; a throwaway database keeps
            # the subprocess away from the demo's and the test run's.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
        }
    )
    return environment


def _env_example() -> dict[str, str]:
    """The variables `.env.example` documents for production, as written."""
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


@pytest.mark.parametrize(
    "configuration",
    [
        pytest.param("env-example", id="as-env-example-documents"),
        pytest.param("defaults", id="with-only-the-required-variables"),
    ],
)
def test_deployment_check_passes_with_production_settings(tmp_path, configuration):
    accepted = {}
    if configuration == "defaults":
        if (BASE_DIR / ".env").exists():
            pytest.skip("a local .env would supply values in place of the settings' defaults")
        # Behind the TLS proxy, as in docker-compose; everything else is the
        # settings' own default.
        documented = {"BEHIND_TLS_PROXY": "true"}
    else:
        documented = {name: value for name, value in _env_example().items() if value}
        accepted = ACCEPTED_ENV_EXAMPLE_WARNINGS

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_production_environment(tmp_path, documented),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    output = result.stdout + result.stderr
    reported = set(re.findall(r"^\S*: \(([\w.]+)\) ", output, flags=re.MULTILINE))
    problems = reported - set(accepted)
    assert result.returncode == 0 or reported, f"manage.py check failed:\n{output}"
    assert not problems, f"manage.py check --deploy found {sorted(problems)}:\n{output}"


def test_every_silenced_system_check_has_a_written_reason():
    unexplained = set(settings.SILENCED_SYSTEM_CHECKS) - set(SILENCED_CHECKS_WITH_REASONS)
    assert not unexplained, (
        f"system checks silenced without a reason: {sorted(unexplained)}; write why beside "
        "SILENCED_SYSTEM_CHECKS in mdtcare/settings.py and in SILENCED_CHECKS_WITH_REASONS here"
    )
