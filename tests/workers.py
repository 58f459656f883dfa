"""A real ``celery -A mdtcare worker`` process, as deployed, for the tests
that are about work done outside the request: it reads the test database
through PostgreSQL and takes its tasks from the real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def worker_process_running(log: Path, **environment: str) -> Iterator[subprocess.Popen]:
    """Start a worker with the test database and broker (and ``environment``
    on top), its output written to ``log``; stop it on the way out."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process reads the test database through a database server")
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mdtcare.settings",
        "SECRET_KEY": "worker-process-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **environment,
    }
    with log.open("w") as output:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "mdtcare", "worker"),
                *("--pool", "solo", "--loglevel", "INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for(condition, *, seconds=60) -> bool:
    """Poll ``condition`` every half second; whether it came true in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False
