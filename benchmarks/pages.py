"""Benchmark: the pages people use most, under a fixed arrival rate, each
against a baseline page measured in the same run.

The app is served by gunicorn (2 sync workers, production settings with
DEBUG off, plain HTTP on 127.0.0.1, no Redis) against the chosen database;
the script logs in through the real log-in form (CSRF included) as the
navigator, the GP chair and the matron of one network, then sends each page requests
on a fixed schedule (open loop: a request starts at its scheduled moment
whether or not earlier ones have finished, and its latency counts from
that moment, so a page that cannot keep up shows it). Pages, in order:

- the baseline: "Your account" (``/account/``), a minimal logged-in page
  that goes through the whole middleware stack and the site layout and
  makes one indexed query beyond what every logged-in page makes;
- the register list with a filter (open episodes) and a search (a common
  family name);
- one patient's record (the person of the network with most agenda items);
- the navigator's worklist of actions;
- the chair's meeting screen (the meeting with agenda closest to 30 items);
- the matron's assessment form (starting a holistic assessment for a
  person of the network with an open episode);
- the API patient list, 100 a page.

With --saturation-seconds it also measures each page's saturation
throughput: a few clients each sending the next request as soon as the
last is answered (closed loop), requests a second. It prints a Markdown
table (p50, p95, errors, each page's p95 over the baseline's) and writes
it to benchmarks/results/pages-<date>.md. With --small it also generates
1,000 people into a throwaway database, runs the same pages there first
and reports the p95 ratio 250k / 1k per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/pages.py --database mdtcare_ceiling \\
        [--rate 20] [--seconds 20] [--network aire] [--small]

The chosen database is only read (visiting pages writes audit events and
sessions, as in use).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime as dt
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: benchmarks/ is on the path, the root not
    sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402

RESULTS = common.RESULTS
PASSWORD = "bench-ceiling-password"  # noqa: S105 (the made-up logins of generator.py)
SMALL_DATABASE = "mdtcare_bench_pages_small"
REQUEST_TIMEOUT = 60.0
SECRET_KEY = "benchmark-only-" + uuid.uuid4().hex
# A settings module of the benchmark's own: the app's settings, with the
# collected static files in a temporary folder rather than in var/.
SETTINGS_MODULE = """from mdtcare.settings import *  # noqa: F403
STATIC_ROOT = {static_root!r}
"""


@dataclasses.dataclass(frozen=True)
class Page:
    name: str
    persona: str  # "navigator", "chair" or "matron"
    path: str


@dataclasses.dataclass
class Measurement:
    page: Page
    latencies: list[float]  # seconds from the scheduled start, successful requests
    errors: int
    sent: int
    late_start_p95: float  # how late the client itself started requests (its own limit)
    alone: float  # the median of requests sent one at a time, before the load: service time
    throughput: float = float("nan")  # saturation: requests a second, closed loop

    def centile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return self.centile(0.50)

    @property
    def p95(self) -> float:
        return self.centile(0.95)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="mdtcare_ceiling")
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per page")
    parser.add_argument("--network", default="aire", help="the network code of the logins")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--small", action="store_true", help="also 1,000 people in a throwaway database"
    )
    parser.add_argument(
        "--saturation-seconds",
        type=float,
        default=0,
        help="also each page's saturation throughput, for this long (0: not measured)",
    )
    return parser.parse_args()


# --- the database and what to ask for -------------------------------------------------


def use_database(name: str) -> None:
    """Point the already set-up Django at another database on the same server."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


PERSONAS = ("navigator", "chair", "matron")


def choose_pages(network_code: str) -> list[Page]:
    from django.db.models import Count, F, Func

    from mdtcare.accounts.models import Network
    from meetings.models import Meeting
    from patients.models import Patient, RegisterEntry

    network = Network.objects.get(code=network_code)
    in_network = Patient.objects.filter(practice__network=network)
    patient = (
        in_network.annotate(items=Count("agenda_items")).order_by("-items", "id").values("id")[0]
    )
    surname = (
        in_network.values("family_name")
        .annotate(n=Count("id"))
        .order_by("-n", "family_name")
        .values_list("family_name", flat=True)[0]
    )
    meetings = Meeting.objects.filter(network=network).annotate(items=Count("agenda"))
    # A meeting of about 30 items if there is one, else the largest.
    meeting = (
        meetings.filter(items__range=(20, 40))
        .annotate(distance=Func(F("items") - 30, function="ABS"))
        .order_by("distance", "-date")
        .values("id", "items")
        .first()
    ) or meetings.order_by("-items", "-date").values("id", "items")[0]
    # The matron starts an assessment for someone whose episode is open (the
    # first by id: any such person's form costs the same).
    assessed = (
        in_network.filter(entries__status__in=RegisterEntry.OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)[0]
    )
    search = urllib.parse.urlencode({"status": "open", "q": surname})
    return [
        Page("baseline: your account", "navigator", "/account/"),
        Page(f"register, open + search '{surname}'", "navigator", f"/patients/?{search}"),
        Page("patient record", "navigator", f"/patients/{patient['id']}/"),
        Page("navigator's worklist", "navigator", "/actions/"),
        Page(
            f"chair's meeting screen ({meeting['items']} items)",
            "chair",
            f"/meetings/{meeting['id']}/",
        ),
        Page("assessment form", "matron", f"/patients/{assessed}/assessments/new/"),
        Page("API patients, page_size=100", "navigator", "/api/v1/patients/?page_size=100"),
    ]


# --- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving mdtcare against one database, for the length of a ``with``."""

    def __init__(self, database_url: str, *, workers: int, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "bench_pages_settings",
            "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
            "DEBUG": "false",
            "MDTCARE_DEMO": "false",
            # One key for the run: each page has a server of its own, and the
            # sessions logged in on the first must hold on the others.
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "TWO_FACTOR_REQUIRED_FOR": "off",
            # Plain HTTP on the loopback: no redirect to HTTPS, cookies sent
            # over HTTP, no HSTS. BEHIND_TLS_PROXY stays unset (no proxy).
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SECURE_HSTS_PRELOAD": "false",
            "CELERY_BROKER_URL": "memory://",
            "LOG_LEVEL": "ERROR",
            # Connections kept between requests, as .env.example deploys it.
            "CONN_MAX_AGE": "60",
        }
        self.env.pop("REDIS_URL", None)
        self.env.pop("BEHIND_TLS_PROXY", None)
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "mdtcare.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / f"gunicorn-{self.port}.log", "w"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/account/login/", timeout=5).read()  # noqa: S310
                return self
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    break
                time.sleep(0.3)
        self.__exit__(None, None, None)
        sys.exit(f"gunicorn did not start; see {self.workdir}/gunicorn-{self.port}.log")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def collect_static(workdir: Path) -> None:
    """Collect the static files once into the temporary folder (the manifest
    storage production uses needs them)."""
    (workdir / "bench_pages_settings.py").write_text(
        SETTINGS_MODULE.format(static_root=str(workdir / "static"))
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_pages_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
        "SECRET_KEY": "benchmark-only",
        "DEBUG": "false",
    }
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


# --- the client ---------------------------------------------------------------------


def log_in(base: str, username: str) -> str:
    """Log in through the log-in form; the Cookie header of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/account/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (our own http:// base)
        base + "/account/login/", data=body, headers={"Referer": base + "/account/login/"}
    )
    response = opener.open(request, timeout=60)
    if "/account/login/" in response.geturl():
        sys.exit(f"Logging in as {username} failed (still on the log-in page)")
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        sys.exit(f"Logging in as {username} gave no session cookie")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def fetch(url: str, cookie: str) -> bool:
    """One GET; True on a 200 that was not a redirect to the log-in page."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
            response.read()
            return response.status == 200 and "/account/login/" not in response.geturl()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def saturate(url: str, cookie: str, *, clients: int, seconds: float) -> tuple[float, int]:
    """Closed loop: ``clients`` threads each send the next request as soon
    as the last is answered, for ``seconds``. (requests answered a second,
    errors)."""
    stop = time.perf_counter() + seconds
    counts = [0] * clients
    errors = [0] * clients

    def client(n: int) -> None:
        while time.perf_counter() < stop:
            if fetch(url, cookie):
                counts[n] += 1
            else:
                errors[n] += 1

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return sum(counts) / (time.perf_counter() - started), sum(errors)


def measure(
    page: Page, *, base: str, cookie: str, rate: float, seconds: float, warm_up: int
) -> Measurement:
    """Open loop: request i starts at start + i / rate, on a thread of its own."""
    count = int(rate * seconds)
    url = base + page.path
    latencies: list[float] = []
    late: list[float] = []
    errors = 0
    lock = threading.Lock()

    def one(scheduled: float) -> None:
        nonlocal errors
        late_by = time.perf_counter() - scheduled
        ok = fetch(url, cookie)
        elapsed = time.perf_counter() - scheduled
        with lock:
            late.append(late_by)
            if ok:
                latencies.append(elapsed)
            else:
                errors += 1

    # Enough threads that none waits for a free one: the rate times the
    # longest a request may take, capped.
    threads = min(1000, int(rate * REQUEST_TIMEOUT) + 10)
    for _ in range(warm_up):  # a request a worker, not counted
        fetch(url, cookie)
    alone = []
    for _ in range(5):
        started = time.perf_counter()
        fetch(url, cookie)
        alone.append(time.perf_counter() - started)
    start = time.perf_counter() + 0.2
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        for i in range(count):
            scheduled = start + i / rate
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(one, scheduled)
    late.sort()
    return Measurement(
        page=page,
        latencies=latencies,
        errors=errors,
        sent=count,
        late_start_p95=late[int(0.95 * (len(late) - 1))] if late else 0.0,
        alone=sorted(alone)[2],
    )


def run_pages(
    database_name: str,
    database_url: str,
    args: argparse.Namespace,
    workdir: Path,
    *,
    saturation_seconds: float = 0,
) -> list[Measurement]:
    """Each page at the fixed rate on a fresh server; with
    ``saturation_seconds``, then its saturation throughput on the same
    server (after the open-loop queue has drained)."""
    use_database(database_name)
    pages = choose_pages(args.network)
    results = []
    with Server(database_url, workers=args.workers, workdir=workdir) as server:
        cookies = {
            persona: log_in(server.base, f"bench-{persona}-{args.network}") for persona in PERSONAS
        }
    for page in pages:
        print(f"  {database_name}: {page.name} ({page.path})", flush=True)
        # A fresh server for each page: a page that cannot keep up leaves a
        # queue of requests behind that would slow the next page down.
        with Server(database_url, workers=args.workers, workdir=workdir) as server:
            measurement = measure(
                page,
                base=server.base,
                cookie=cookies[page.persona],
                rate=args.rate,
                seconds=args.seconds,
                warm_up=args.workers,
            )
            if saturation_seconds:
                measurement.throughput, _ = saturate(
                    server.base + page.path,
                    cookies[page.persona],
                    clients=2 * args.workers,
                    seconds=saturation_seconds,
                )
        print(
            f"    alone {ms(measurement.alone)} ms, p50 {ms(measurement.p50)} ms, "
            f"p95 {ms(measurement.p95)} ms, "
            f"{measurement.errors} errors of {measurement.sent}"
            + (f", saturation {measurement.throughput:.1f}/s" if saturation_seconds else ""),
            flush=True,
        )
        if not measurement.latencies:
            sys.exit(f"Every request to {page.path} failed; see {workdir}/gunicorn-*.log")
        results.append(measurement)
    return results


# --- the report ---------------------------------------------------------------------


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:,.0f}"


def table(results: list[Measurement], small: list[Measurement] | None) -> str:
    baseline = results[0].p95
    saturated = any(m.throughput == m.throughput for m in results)  # not all NaN
    head = "| page | persona | alone (ms) | p50 (ms) | p95 (ms) | errors | p95 / baseline p95 |"
    rule = "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    if saturated:
        head += " saturation (req/s) | / baseline's |"
        rule += " ---: | ---: |"
    if small:
        head += " 1k p95 (ms) | 250k / 1k p95 |"
        rule += " ---: | ---: |"
    lines = [head, rule]
    for i, m in enumerate(results):
        row = (
            f"| {m.page.name} | {m.page.persona} | {ms(m.alone)} | {ms(m.p50)} | {ms(m.p95)} | "
            f"{m.errors} / {m.sent} | {m.p95 / baseline:.1f}x |"
        )
        if saturated:
            row += f" {m.throughput:.1f} | {m.throughput / results[0].throughput:.0%} |"
        if small:
            s = small[i]
            row += f" {ms(s.p95)} | {m.p95 / s.p95:.1f}x |"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    args = arguments()
    _, database_url = common.server_urls(args.database)
    small_results = None
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        workdir = Path(tmp)
        if args.small:
            with common.throwaway_database(SMALL_DATABASE) as small_url:
                from benchmarks.generator import generate

                generate(patients=1000)
                collect_static(workdir)
                small_results = run_pages(SMALL_DATABASE, small_url, args, workdir)
        else:
            common.django_setup(database_url)
            collect_static(workdir)
        results = run_pages(
            args.database,
            database_url,
            args,
            workdir,
            saturation_seconds=args.saturation_seconds,
        )
        late = max(m.late_start_p95 for m in results + (small_results or []))
    markdown = "\n".join(
        [
            f"# Pages under load, {dt.date.today().isoformat()}",
            "",
            f"Database `{args.database}`; network `{args.network}`; gunicorn, "
            f"{args.workers} sync workers; {args.rate:g} requests a second for "
            f"{args.seconds:g} s a page (open loop, latency from the scheduled start); "
            f"{common.machine_description()}. The client started requests at most "
            f"{late * 1000:.0f} ms late (95th centile). *Alone*: the median of five "
            "requests sent one at a time before the load (the page's own time); errors "
            f"include requests unanswered after {REQUEST_TIMEOUT:g} s.",
            "",
            table(results, small_results),
        ]
    )
    print()
    print(markdown)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"pages-{dt.date.today().isoformat()}.md"
    path.write_text(markdown + "\n")
    print(f"\nWritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
