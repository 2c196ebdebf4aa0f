#!/usr/bin/env python
"""Django's command-line utility for the sample_erp demo; run it from anywhere."""

import os
import sys
from pathlib import Path


def main():
    # The repository root holds both ``sample_erp`` and ``docnumbers``.
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_erp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
