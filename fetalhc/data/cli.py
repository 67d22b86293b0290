"""Command-line plumbing shared by the HC18 commands (the data scripts and the submission)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fetalhc.paths import DataNotFoundError, hc18_dir


def add_hc18_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hc18-dir", type=Path, default=None,
                        help="HC18 folder (default: $HC18_DIR, else ../shared/hc18, else dataset/)")


def resolve_hc18(args: argparse.Namespace) -> Path:
    return hc18_dir(args.hc18_dir)


def run(main) -> None:
    """Run ``main()``; turn a missing-data error into a one-line message and exit status 2."""
    try:
        sys.exit(main())
    except DataNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
