"""The mixed load: page reads, writes through the site's forms and API
calls together, at a fixed arrival rate (open loop), counting every answer
that is not 2xx or 3xx, and every request unanswered in time, as an error.

Run by ``benchmarks/bench.py`` against a throwaway copy of the ceiling
database (the writes change it). The mix is 70% page reads spread evenly
over the pages of ``pages.choose_pages`` (but the API list), 20% writes
and 10% API calls, shuffled in blocks of ten requests (so every ten
seconds hold exactly that mix). The writes are real POSTs of the forms the
pages show, with the session's CSRF token, as their buttons send them
(without htmx, so each answers with a redirect):

- a navigator starts an open action (the worklist's Start button);
- a matron completes another open action (Mark as done, with a note);
- a navigator adds an action for a person, owned by the matron (the
  record's "Add an action" form);
- a matron marks all her notifications read (the list's button).

Each action is changed once (a stale change would be refused with a
message, still a redirect); after the run the database is read to count
the writes that took effect.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

from benchmarks import pages

MARKER = "Benchmark mixed load: phone the person about their care plan"
TIMEOUT = pages.REQUEST_TIMEOUT
SESSIONS_PER_PERSONA = 3  # one session row per few concurrent requests, as real users have


@dataclasses.dataclass(frozen=True)
class Call:
    category: str  # "page", "write" or "api"
    name: str
    persona: str
    path: str
    data: dict | None = None  # a POST's form fields (the CSRF token is added)


@dataclasses.dataclass
class Outcome:
    category: str
    name: str
    ok: bool
    status: str  # the HTTP status, or "timeout" / "connection"
    latency: float  # from the scheduled start


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is the answer (a form's success), not a new request."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(base: str, call: Call, cookie: str, *, timeout: float) -> tuple[bool, str]:
    """One request; (ok, status). 2xx and 3xx are ok, but a redirect to the
    log-in page (the session was lost)."""
    headers = {"Cookie": cookie}
    body = None
    if call.data is not None:
        token = dict(part.split("=", 1) for part in cookie.split("; "))["csrftoken"]
        body = urllib.parse.urlencode({**call.data, "csrfmiddlewaretoken": token}).encode()
        headers["Referer"] = base + "/"
    request = urllib.request.Request(base + call.path, data=body, headers=headers)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            return 200 <= response.status < 400, str(response.status)
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location", "") if exc.headers else ""
        exc.read()
        ok = 300 <= exc.code < 400 and "/account/login/" not in location
        return ok, str(exc.code)
    except (TimeoutError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, "timeout" if isinstance(reason, TimeoutError) else "connection"
    except (ConnectionError, OSError):
        return False, "connection"


# --- what to send ------------------------------------------------------------------------


def prepare_writes(network_code: str, count: int, today: dt.date) -> list[Call]:
    """``count`` writes, a quarter of each kind, each action changed once.
    Reads the database Django is pointed at (the copy the server uses)."""
    from mdtcare.accounts.models import Network, User
    from meetings.models import Action
    from patients.models import Patient, RegisterEntry

    network = Network.objects.get(code=network_code)
    matron = User.objects.get(username=f"bench-matron-{network_code}")
    per_kind = count // 4 + 1
    open_actions = list(
        Action.objects.filter(patient__practice__network=network, status=Action.Status.OPEN)
        .order_by("id")
        .values_list("id", flat=True)[: 2 * per_kind]
    )
    people = list(
        Patient.objects.filter(
            practice__network=network, entries__status__in=RegisterEntry.OPEN_STATUSES
        )
        .order_by("id")
        .values_list("id", flat=True)[:per_kind]
    )
    due = today + dt.timedelta(days=14)
    back = {"next": "/actions/mine/", "list": "mine"}
    starts = [
        Call(
            "write",
            "start an action",
            "navigator",
            f"/actions/{pk}/start/",
            {**back, "expected_status": "open"},
        )
        for pk in open_actions[0::2]
    ]
    completes = [
        Call(
            "write",
            "complete an action",
            "matron",
            f"/actions/{pk}/complete/",
            {**back, "expected_status": "open", "note": "Done (benchmark)"},
        )
        for pk in open_actions[1::2]
    ]
    adds = [
        Call(
            "write",
            "add an action",
            "navigator",
            f"/actions/new/{pk}/",
            {
                "what": MARKER,
                "source": "other",
                "owner": str(matron.pk),
                "owner_organisation": "",
                "due_on_0": str(due.day),
                "due_on_1": str(due.month),
                "due_on_2": str(due.year),
                "priority": "routine",
            },
        )
        for pk in people
    ]
    reads = [
        Call(
            "write",
            "mark notifications read",
            "matron",
            "/notifications/read-all/",
            {"next": "/notifications/"},
        )
    ] * per_kind
    writes = []
    for group in zip(starts, completes, adds, reads, strict=False):
        writes.extend(group)
    if len(writes) < count:
        raise SystemExit(
            f"Network {network_code} has too few open actions or people for {count} writes"
        )
    return writes[:count]


def schedule(
    *, page_list: list[pages.Page], writes: list[Call], count: int, seed: int
) -> list[Call]:
    """``count`` calls: in each block of ten, seven page reads, two writes
    and one API call, shuffled; the pages and API calls in turn."""
    rng = random.Random(seed)
    reads = [Call("page", p.name, p.persona, p.path) for p in page_list if "/api/" not in p.path]
    api = [
        Call("api", "API patients, page_size=100", "navigator", "/api/v1/patients/?page_size=100"),
        Call("api", "API actions", "navigator", "/api/v1/actions/"),
        Call("api", "API me", "matron", "/api/v1/me/"),
    ]
    calls: list[Call] = []
    n_read = n_write = n_api = 0
    while len(calls) < count:
        block = ["page"] * 7 + ["write"] * 2 + ["api"]
        rng.shuffle(block)
        for kind in block:
            if kind == "page":
                calls.append(reads[n_read % len(reads)])
                n_read += 1
            elif kind == "write":
                calls.append(writes[n_write])
                n_write += 1
            else:
                calls.append(api[n_api % len(api)])
                n_api += 1
    return calls[:count]


# --- sending -----------------------------------------------------------------------------


def log_in_all(base: str, network_code: str) -> dict[str, list[str]]:
    return {
        persona: [
            pages.log_in(base, f"bench-{persona}-{network_code}")
            for _ in range(SESSIONS_PER_PERSONA)
        ]
        for persona in pages.PERSONAS
    }


def run(
    base: str, calls: list[Call], cookies: dict[str, list[str]], *, rate: float
) -> tuple[list[Outcome], float]:
    """Open loop: call i starts at start + i / rate on a thread of its own;
    one not answered within TIMEOUT of its scheduled start is an error (one
    that could not even start by then is not sent). (outcomes, the client's
    own 95th centile of late starts)."""
    outcomes: list[Outcome] = []
    late: list[float] = []
    lock = threading.Lock()

    def one(i: int, call: Call, scheduled: float) -> None:
        late_by = time.perf_counter() - scheduled
        sessions = cookies[call.persona]
        if late_by >= TIMEOUT:
            ok, status = False, "timeout"
        else:
            ok, status = send(base, call, sessions[i % len(sessions)], timeout=TIMEOUT - late_by)
        elapsed = time.perf_counter() - scheduled
        if elapsed > TIMEOUT:
            ok, status = False, "timeout"
        with lock:
            late.append(late_by)
            outcomes.append(Outcome(call.category, call.name, ok, status, elapsed))

    threads = min(1000, int(rate * TIMEOUT) + 10)
    start = time.perf_counter() + 0.2
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        for i, call in enumerate(calls):
            scheduled = start + i / rate
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(one, i, call, scheduled)
    late.sort()
    return outcomes, (late[int(0.95 * (len(late) - 1))] if late else 0.0)


def writes_applied(writes: list[Call]) -> dict[str, tuple[int, int]]:
    """Kind -> (took effect, sent), read back from the database."""
    from meetings.models import Action

    def ids(kind):
        return [c.path.split("/")[2] for c in writes if c.name == kind]

    started = ids("start an action")
    completed = ids("complete an action")
    added = sum(1 for c in writes if c.name == "add an action")
    return {
        "start an action": (
            Action.objects.filter(pk__in=started, status=Action.Status.IN_PROGRESS).count(),
            len(started),
        ),
        "complete an action": (
            Action.objects.filter(pk__in=completed, status=Action.Status.DONE).count(),
            len(completed),
        ),
        "add an action": (Action.objects.filter(what=MARKER).count(), added),
    }


# --- the table -----------------------------------------------------------------------------


def centile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(outcomes: list[Outcome], applied: dict[str, tuple[int, int]]) -> str:
    lines = [
        "| requests | sent | errors | p50 (ms) | p95 (ms) | errors by status |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    groups = [("all", outcomes)]
    for category in ("page", "write", "api"):
        groups.append((f"{category}s" if category != "api" else "API", []))
    by_name: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_name.setdefault(o.name, []).append(o)
        groups[1 + ("page", "write", "api").index(o.category)][1].append(o)
    order = {"page": 0, "write": 1, "api": 2}
    named = sorted(by_name.items(), key=lambda item: (order[item[1][0].category], item[0]))
    for label, rows in groups + [(f"- {name}", rows) for name, rows in named]:
        ok = [o.latency for o in rows if o.ok]
        errors = Counter(o.status for o in rows if not o.ok)
        lines.append(
            f"| {label} | {len(rows):,} | {sum(errors.values()):,} | "
            f"{pages.ms(centile(ok, 0.5))} | {pages.ms(centile(ok, 0.95))} | "
            + (", ".join(f"{status}: {n}" for status, n in errors.most_common()) or "-")
            + " |"
        )
    effect = "; ".join(f"{kind} {done} of {sent}" for kind, (done, sent) in applied.items())
    lines += ["", f"Writes that took effect (read back from the database): {effect}."]
    return "\n".join(lines)
