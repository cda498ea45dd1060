"""The ``potentiel`` command. Thin: parse arguments, call the pipeline's front ends, print.

Exit codes: 0 success (warnings printed), 1 a user error (a clear message, no traceback),
2 a usage error. Heavy imports (pandas, openpyxl) happen inside the commands so that
``potentiel --help`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

EXIT_OK, EXIT_USER, EXIT_USAGE = 0, 1, 2


def _cmd_score(args: argparse.Namespace) -> int:
    from .headless import score_file
    from .report import console_summary, top_accounts

    result, target = score_file(args.workbook, args.output, rules=args.rules,
                                plugin_dirs=args.plugins or (), engine=args.engine)
    print(console_summary(result, str(target)))
    if args.top:
        print(top_accounts(result, args.top))
    return EXIT_OK


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .manager import load_plugins

    plugins = load_plugins(args.plugins or ())
    rows = [("criterion", "label", "inputs", "origin")]
    for name, crit in plugins.criteria.items():
        inputs = ", ".join(i.name for i in crit.inputs)
        rows.append((name, crit.label, inputs, str(plugins.origins[name])))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    extras = [("derived field", plugins.derivations), ("rule action", plugins.rule_actions),
              ("output sheet", plugins.output_sheets)]
    for kind, things in extras:
        for name in things:
            print(f"{kind}: {name}")
    for p in plugins.problems:
        print(f"warning: {p}", file=sys.stderr)
    return EXIT_OK


def _cmd_rules_check(args: argparse.Namespace) -> int:
    from .manager import load_plugins
    from .rules import check_ruleset

    plugins = load_plugins(args.plugins or ())
    problems = check_ruleset(args.file, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    errors = [p for p in problems if p.level == "error"]

    def by_place(p):
        file, _, line = p.where.rpartition(":")
        return (file, int(line)) if line.isdigit() else (p.where, 0)

    for p in sorted(problems, key=by_place):
        print(f"{p}" if p.level == "error" else f"{p} (warning)")
    if errors:
        print(f"{len(errors)} error(s) in {args.file}", file=sys.stderr)
        return EXIT_USER
    print(f"{args.file}: OK" + (f", {len(problems)} warning(s)" if problems else ""))
    return EXIT_OK


def _cmd_rules_test(args: argparse.Namespace) -> int:
    from .manager import load_plugins
    from .pipeline import rule_test_scorer
    from .rules import format_test_report, load_ruleset, run_rule_tests

    plugins = load_plugins(args.plugins or ())
    ruleset = load_ruleset(args.file, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    outcomes = run_rule_tests(ruleset, rule_test_scorer(plugins))
    print(format_test_report(outcomes))
    return EXIT_USER if any(not o.passed for o in outcomes) else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="potentiel",
        description="Score B2B clients and prospects: criteria, weights, categories A/B/C/D, "
                    "rules, portfolio matrix and the accounts making 80 %% of revenue.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("score", help="recompute a workbook (reads and writes the file itself)",
                       description="Recompute WORKBOOK: read the Accounts, Settings and "
                                   "Salespeople sheets, score, and write the output columns "
                                   "and the Matrix, Summary and Log sheets. Without -o the "
                                   "workbook is updated in place and the previous version is "
                                   "kept as NAME.backup.xlsx.")
    p.add_argument("workbook", help="the .xlsx or .xlsm file")
    p.add_argument("-o", "--output", metavar="OUT", help="write the result here instead")
    p.add_argument("--rules", metavar="FILE", help="rule file (wins over Settings)")
    p.add_argument("--plugins", metavar="DIR", action="append",
                   help="extra plugin folder (.py files); may be repeated")
    p.add_argument("--engine", choices=("durable", "compiled"),
                   help="rules engine (default: durable)")
    p.add_argument("--top", metavar="N", type=int, default=0,
                   help="also print the N best-scored accounts")
    p.set_defaults(func=_cmd_score)

    rules = sub.add_parser("rules", help="check or test a rule file")
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rsub.required = True
    p = rsub.add_parser("check", help="validate a rule file; exit 1 with file:line messages")
    p.add_argument("file")
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.set_defaults(func=_cmd_rules_check)
    p = rsub.add_parser("test", help="run the rule file's own test cases")
    p.add_argument("file")
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.set_defaults(func=_cmd_rules_test)

    p = sub.add_parser("plugins", help="list criteria and where each comes from")
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.set_defaults(func=_cmd_plugins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .problems import UserError

    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UserError as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
