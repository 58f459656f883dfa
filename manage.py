#!/usr/bin/env python
"""Django's command-line utility for mdtcare."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdtcare.settings")
    from django.core.management import execute_from_command_line

    from mdtcare.audit.context import audit_context

    # Changes made by a management command (a data fix, a migration) are
    # attributed to that command in the change history.
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    with audit_context(source=f"command:{command}"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
