"""Fill a PostgreSQL database with the design-ceiling data set (see
``benchmarks/generator.py`` and benchmarks/README.md)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from benchmarks import generator


class Command(BaseCommand):
    help = (
        "Fill an empty PostgreSQL database with the design-ceiling data set, scaled to "
        "--patients (250,000 is the ceiling). Deterministic from --seed and --today."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True, help="people on the register")
        parser.add_argument("--seed", type=int, default=generator.DEFAULT_SEED)
        parser.add_argument("--months", type=int, default=24, help="months of history")
        parser.add_argument(
            "--networks", type=int, default=12, help="networks (at most one per 100 people)"
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD the data ends on (default: today; give it for identical data)",
        )
        parser.add_argument(
            "--password",
            default=generator.DEFAULT_PASSWORD,
            help="password of the bench-admin-/bench-chair-/… logins of each network",
        )
        parser.add_argument(
            "--audit-events", type=int, default=0, help="access events to write as well"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="empty the generated tables first (a generated database only)",
        )

    def handle(self, *args, **options):
        try:
            result = generator.generate(
                patients=options["patients"],
                seed=options["seed"],
                months=options["months"],
                networks=options["networks"],
                today=options["today"],
                password=options["password"],
                audit_events=options["audit_events"],
                replace=options["replace"],
                out=self.stdout,
            )
        except (generator.GeneratorError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        self.stdout.write(result.report())
        first = next(iter(result.logins.values()))
        self.stdout.write(
            f"\nLogins in each network (password from --password), e.g. {', '.join(first.values())}"
        )
