from django.core.management.base import BaseCommand, CommandError

from mdtcare.core import demo


class Command(BaseCommand):
    help = "Load the demo data set (idempotent). Refused unless MDTCARE_DEMO=true."

    def handle(self, *args, **options):
        try:
            made = demo.demo_data_load()
        except demo.DemoModeOff as exc:
            raise CommandError(str(exc)) from exc
        summary = ", ".join(f"{count} {kind}" for kind, count in made.items())
        self.stdout.write(f"Demo data set ready (made this time: {summary}).")
