#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that neither serve nor read secrets may run without SECRET_KEY (e.g. a pre-commit
# `makemigrations --check`); everything else still refuses to start without one.
OFFLINE_COMMANDS = {"makemigrations", "check", "help", "version", "sqlmigrate", "spectacular"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS:
        os.environ.setdefault("NAMEPORT_INSECURE_DEV_KEY", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
