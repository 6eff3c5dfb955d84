"""``python -m e2e_shared.report merge [--junit-dir reports/junit] [--out reports] [--strict]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import E2EError
from ..config import check_writable_dir
from ..contract import after_merge
from .merge import NoReportsError, merge
from .model import summary_line


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return 0 when the verdict passes, 1 when it fails, 2 when nothing to merge."""
    parser = argparse.ArgumentParser(
        prog="python -m e2e_shared.report", description="Merge E2E JUnit reports."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "merge", help="merge <phase>-<suite>.xml files into junit.xml, summaries and index.html"
    )
    cmd.add_argument("--junit-dir", type=Path, default=Path("reports/junit"),
                     help="folder of the suites' JUnit files (default: reports/junit)")
    cmd.add_argument("--out", type=Path, default=Path("reports"),
                     help="folder for the merged reports (default: reports)")
    cmd.add_argument("--strict", action="store_true",
                     help="count flaky tests (failed, then passed on rerun) as failed")
    args = parser.parse_args(argv)

    try:
        check_writable_dir(args.out, "the reports folder", create=False)
        result = merge(args.junit_dir, args.out, strict=args.strict)
    except NoReportsError as exc:
        print(f"report merge: {exc}", file=sys.stderr)
        return 2
    except E2EError as exc:  # the output folder cannot be written: nothing merged
        print(f"error: {exc.cause}\n  next: {exc.hint}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"report: {result.outputs['index_html']}")
    contract_line = after_merge(args.out)
    if contract_line:
        print(contract_line)
    print(summary_line(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
