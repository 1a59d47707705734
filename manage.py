#!/usr/bin/env python
"""Django's command-line utility for SAFER."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.development")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A configuration mistake is one clear line, not a traceback wall.
        from safer.env import error_line

        sys.stderr.write(error_line(error) + "\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
