"""``python cli.py COMMAND ...`` from a checkout: the same as the installed ``extractor``."""
import sys

from extractor.cli import main

if __name__ == '__main__':
    sys.exit(main())
