#!/usr/bin/env bash
# Runs the mdtcare demo on http://127.0.0.1:8000: migrates a SQLite database
# under var/, loads the demo data, starts a Celery worker and beat in the
# background and the development server in the foreground. Ctrl-C (or any
# exit) stops all three. Started by `make demo`, which builds .venv first.
#
# The clean-up functions below run from traps:
# shellcheck disable=SC2317
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=.venv/bin/python
CELERY=.venv/bin/celery
HOST=127.0.0.1
PORT=8000
URL="http://$HOST:$PORT"

if [[ ! -x $PY || ! -x $CELERY ]]; then
    echo "No virtual environment in .venv: run 'make demo' (it creates one)." >&2
    exit 1
fi

# The demo is self-contained: it never uses the database, broker, mail server
# or TLS settings that a .env file may name for a real deployment (settings.py
# reads .env, but variables set here win).
export MDTCARE_DEMO=true
export DATABASE_URL="sqlite:///$ROOT/var/mdtcare.sqlite3"
export REDIS_URL=""
export CELERY_BROKER_URL="filesystem://"
export CELERY_TASK_ALWAYS_EAGER=false
export EMAIL_URL=""                      # e-mail is written to files in var/mail
export ALLOWED_HOSTS="$HOST,localhost"
export BEHIND_TLS_PROXY=false
export SECURE_SSL_REDIRECT=false
export SECURE_HSTS_SECONDS=0
export SESSION_COOKIE_SECURE=false
export CSRF_COOKIE_SECURE=false
export NHS_NUMBER_ALLOW_TEST_RANGE=true   # the demo patients have 999 numbers
export TWO_FACTOR_REQUIRED_FOR=off

# Fail early, before any work, if something already listens on the port.
if ! "$PY" - "$HOST" "$PORT" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver does
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
EOF
then
    echo "Port $PORT on $HOST is already in use: stop whatever runs there" \
         "(perhaps another 'make demo') and try again." >&2
    exit 1
fi

mkdir -p var/celery/queue var/celery/processed var/mail var/log

echo "Preparing the demo database (var/mdtcare.sqlite3)..."
"$PY" manage.py migrate --noinput --verbosity 0
"$PY" manage.py load_demo_data

# Background processes, each in its own process group where setsid exists
# (Linux), so that stopping the group also stops any child it forked.
PIDS=()
USE_SETSID=false
command -v setsid >/dev/null 2>&1 && USE_SETSID=true

start_background() {  # LOGFILE COMMAND...  (LOGFILE "-" keeps this terminal)
    local log=$1
    shift
    $USE_SETSID && set -- setsid "$@"
    if [[ $log == - ]]; then
        "$@" </dev/null &
    else
        "$@" >>"$log" 2>&1 </dev/null &
    fi
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

is_running() {  # PID: true while the process (or its group) is alive
    if $USE_SETSID; then kill -0 -- "-$1" 2>/dev/null; else kill -0 "$1" 2>/dev/null; fi
}

signal_all() {  # SIGNAL
    local pid
    for pid in "${PIDS[@]}"; do
        if $USE_SETSID; then
            kill "-$1" -- "-$pid" 2>/dev/null || true
        else
            kill "-$1" "$pid" 2>/dev/null || true
        fi
    done
}

cleaned_up=false
cleanup() {
    $cleaned_up && return
    cleaned_up=true
    [[ ${#PIDS[@]} -eq 0 ]] && return
    echo
    echo "Stopping the demo (server, worker, beat)..."
    signal_all TERM
    # Give the worker up to 10 s to finish a running task, then insist.
    local _ pid alive
    for _ in $(seq 1 20); do
        alive=false
        for pid in "${PIDS[@]}"; do is_running "$pid" && alive=true; done
        $alive || break
        sleep 0.5
    done
    $alive && signal_all KILL
    wait 2>/dev/null || true
    echo "Stopped. Logs are in var/log/."
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

: >var/log/worker.log
: >var/log/beat.log
start_background var/log/worker.log \
    "$CELERY" -A mdtcare worker --loglevel=INFO --concurrency=1 --pool=solo
WORKER_PID=$LAST_PID
start_background var/log/beat.log \
    "$CELERY" -A mdtcare beat --loglevel=INFO -s var/celery/beat-schedule
BEAT_PID=$LAST_PID

# Beat runs the daily reminder jobs each morning; run them once now, on the
# worker, so the demo's bells and e-mail (var/mail/) show them at once.
# Each job sends a reminder once, so a second demo start adds nothing.
for task in careplans.review_reminders meetings.overdue_digests meetings.meeting_reminders; do
    "$CELERY" -A mdtcare call "$task" >/dev/null
done

# The development server prints to this terminal; it runs in the background
# only so that this script can notice Ctrl-C at once and stop everything.
start_background - "$PY" manage.py runserver "$HOST:$PORT"
WEB_PID=$LAST_PID

# Wait (at most 60 s) until the server answers, then show how to log in.
for _ in $(seq 1 120); do
    is_running "$WEB_PID" || break
    if "$PY" -c "import socket; socket.create_connection(('$HOST', $PORT), 1).close()" 2>/dev/null; then
        break
    fi
    sleep 0.5
done
is_running "$WEB_PID" || { echo "The development server did not start." >&2; exit 1; }
check_started() {  # PID NAME
    if ! is_running "$1"; then
        echo "The Celery $2 stopped at start-up; the end of var/log/$2.log:" >&2
        tail -n 20 "var/log/$2.log" >&2
        exit 1
    fi
}
check_started "$WORKER_PID" worker
check_started "$BEAT_PID" beat

box() { printf '  | %-66s |\n' "$@"; }
rule() { printf '  +%s+\n' "--------------------------------------------------------------------"; }
echo
rule
box "mdtcare demo: $URL" ""
box "Log in as any of these; the password of all is: mdtcare-demo"
box "  matron      network North" "  chair       network North" "  navigator   network North"
box "  admin       network North" "  outsider    network South only"
box "  southchair  network South" "  southnavigator  network South" ""
box "Worker and beat logs: var/log/worker.log, var/log/beat.log"
box "E-mail the demo sends: var/mail/"
box "Press Ctrl-C to stop the server, the worker and beat."
rule
echo

status=0
wait "$WEB_PID" || status=$?
exit "$status"
