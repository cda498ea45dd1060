"""The ``potentiel`` command. Thin: parse arguments, call the pipeline's front ends, print.

Exit codes: 0 success (warnings printed), 1 a user error (a clear message, no traceback),
2 a usage error. Heavy imports (pandas, openpyxl) happen inside the commands so that
``potentiel --help`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Callable, Sequence

from .i18n import N_, _, use_language

# The words of a problem's level, for the catalogs (printed as "(warning)").
_LEVELS = (N_("warning"), N_("notice"), N_("error"))

EXIT_OK, EXIT_USER, EXIT_USAGE = 0, 1, 2
# Control characters from a workbook (a name holding ESC sequences) must not reach the
# terminal, where they could rewrite what the user sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(text: object, one_line: bool = False) -> str:
    """Text safe to print: control characters as "?", on one line if asked."""
    text = str(text)
    if one_line:
        text = " ".join(text.splitlines())
    return _CONTROL.sub("?", text)


def _count(text: str) -> int:
    """A whole number of 0 or more (argparse type)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a whole number").format(text=text)) from None
    if n < 0:
        raise argparse.ArgumentTypeError(
            _("{n} is negative; give how many accounts to show").format(n=n))
    return n


def env_language(environ: dict | None = None) -> str:
    """The language of the terminal: ``"fr"`` when ``LC_ALL``, else ``LC_MESSAGES``, else
    ``LANG`` starts with ``fr`` (``fr_FR.UTF-8``), else ``"en"``."""
    environ = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var)
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def _add_lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=("fr", "en"), default=None,
                   help="language of the messages (default: from LANG / LC_ALL)")


def _cmd_score(args: argparse.Namespace) -> int:
    from .headless import score_file
    from .report import console_summary, top_accounts

    if args.preview:
        return _preview(args)
    from . import progress
    with progress.shown():
        result, target = score_file(args.workbook, args.output, rules=args.rules,
                                    plugin_dirs=args.plugins or (), engine=args.engine,
                                    sales=args.sales, history=args.history)
    print(shown(console_summary(result, str(target))))
    if args.top:
        print(shown(top_accounts(result, args.top)))
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace) -> int:
    from .headless import plan_file
    from .report import console_summary

    result, plan, target = plan_file(args.workbook, args.output, rep=args.rep, rules=args.rules,
                                     plugin_dirs=args.plugins or (), engine=args.engine,
                                     sales=args.sales)
    print(shown(console_summary(result, str(target))))
    with use_language(result.language):
        print(shown(plan.text()))
def _preview(args: argparse.Namespace) -> int:
    """``score --preview``: print the moves; write the Preview sheet only with -o."""
    from .headless import preview_file
    from .review.preview import preview_lines
    from .sheetnames import PREVIEW_SHEET

    moves, result, target = preview_file(args.workbook, args.output, rules=args.rules,
                                         plugin_dirs=args.plugins or (), engine=args.engine,
                                         sales=args.sales, history=args.history)
    with use_language(result.language):
        for line in preview_lines(moves, most=None if args.top == 0 else args.top):
            print(shown(line))
        if result.warnings:  # what the run decided about the data, as score says it
            from .problems import warning_count
            from .sources.reading import group_problems
            n = warning_count(result.warnings)
            print(_("{n} warning(s):").format(n=n) if n else _("Notes:"))
            for p in group_problems(result.warnings):
                print(f"  {shown(p, one_line=True)}")
        if target is None:
            print(_("Nothing was written (add -o FILE to write the {sheet} sheet).").format(
                sheet=_(PREVIEW_SHEET)))
        else:
            print(_("The {sheet} sheet was written to {target}; nothing else was changed.").format(
                sheet=_(PREVIEW_SHEET), target=target))
    return EXIT_OK


def _cmd_changes(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .review.history import FILE_SUFFIXES, account_lines, changes, changes_lines, load

    path = Path(args.file)
    names: dict[str, str] = {}
    if path.suffix.lower() in FILE_SUFFIXES:
        history = load(path)
    else:
        from .headless import account_names_of, read_history_of
        history = read_history_of(path, args.history)
        names = account_names_of(path)
    since = None
    if args.since is not None:
        from .review.history import parse_since
        since = parse_since(args.since, "--since")
    with use_language(history.language):  # a workbook's own language, as inspect does
        if args.account is not None:
            lines = account_lines(history, args.account)
        else:
            lines = changes_lines(changes(history, since, names))
        for line in lines:
            print(shown(line))
        print(_("Nothing was written."))
    return EXIT_OK


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .headless import inspect_file

    report = inspect_file(args.file, rules=args.rules, plugin_dirs=args.plugins or (),
                          sales=args.sales)
    with use_language(getattr(report, "language", None)):  # the workbook's language
        for line in report.lines(preview_rows=args.rows):
            print(shown(line))
        print(_("Nothing was written."))
    return EXIT_OK


def _cmd_backtest(args: argparse.Namespace) -> int:
    from .review.backtest import backtest_lines
    from .review.files import backtest_file

    done = backtest_file(args.file, args.last or (), revenue=args.revenue, out=args.output,
                         rules=args.rules, plugin_dirs=args.plugins or ())
    with use_language(done.language):  # the workbook's language
        for line in backtest_lines(done.backtest, done.proposals):
            print(shown(line))
        if done.target is not None:
            print(_("Backtest sheet written: {target}").format(target=done.target))
    return EXIT_OK


def _cmd_fields(args: argparse.Namespace) -> int:
    from .manager import load_plugins
    from .sources.headers import YEAR_FIELDS

    plugins = load_plugins(args.plugins or ())
    catalogue = plugins.catalogue()
    print(_("Fields Potentiel reads, and the headers it accepts for each (case, accents, "
            "spaces and punctuation are ignored). Only id is required."))
    for f in catalogue.fields.values():
        unit = f" [{f.unit}]" if f.unit else ""
        print(f"\n{f.name} ({f.type}{unit}): {f.description or f.title}")
        heads = [h for h in dict.fromkeys((f.label, *f.aliases, f.name)) if h]
        print("  headers: " + ", ".join(heads))
        if f.name in YEAR_FIELDS:
            back = YEAR_FIELDS.index(f.name)
            year = 2025 - back
            print(_("  by year: CA {year}, CA HT {year}, Chiffre d'affaires {year}, Revenue "
                    "{year}, Sales FY{year} (the latest year in the file is N)").format(year=year))
    print(_("\nSay which column is which in Settings (Column: revenue → CA HT 2025; in French "
            "Colonne : CA) or in a rule file's columns: section."))
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
    for name, d in plugins.derivations.items():
        how = d.label or " × ".join(d.inputs)
        print(_("derived field: {name} = {how} ({origin})").format(
                  name=name, how=how, origin=plugins.derivation_origins[name]))
    for kind, things in ((_("rule action"), plugins.rule_actions),
                         (_("output sheet"), plugins.output_sheets)):
        for name in things:
            print(f"{kind}: {name}")
    for p in plugins.problems:
        print(_("warning: {message}").format(message=shown(p, one_line=True)), file=sys.stderr)
    return EXIT_OK


def _cmd_rules_check(args: argparse.Namespace) -> int:
    from .manager import load_plugins
    from .rules import check_ruleset

    plugins = load_plugins(args.plugins or ())
    problems = check_ruleset(args.file, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    errors = [p for p in problems if p.level == "error"]

    def by_place(p):
        file, _colon, line = p.where.rpartition(":")
        return (file, int(line)) if line.isdigit() else (p.where, 0)

    for p in sorted(problems, key=by_place):
        print(shown(p, one_line=True) + ("" if p.level == "error" else f" ({_(p.level)})"))
    if errors:
        print(_("{n} error(s) in {file}").format(n=len(errors), file=args.file), file=sys.stderr)
        return EXIT_USER
    counts = [_(word).format(n=sum(p.level == lv for p in problems))
              for lv, word in (("warning", N_("{n} warning(s)")), ("notice", N_("{n} notice(s)")))
              if any(p.level == lv for p in problems)]
    print(f"{args.file}: OK" + "".join(f", {c}" for c in counts))
    return EXIT_OK


def _cmd_rules_test(args: argparse.Namespace) -> int:
    from .manager import load_plugins
    from .pipeline import rule_test_scorer
    from .rules import format_test_report, load_ruleset, run_rule_tests

    plugins = load_plugins(args.plugins or ())
    ruleset = load_ruleset(args.file, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    outcomes = run_rule_tests(ruleset, rule_test_scorer(plugins, engine=args.engine))
    print(shown(format_test_report(outcomes)))
    return EXIT_USER if any(not o.passed for o in outcomes) else EXIT_OK


# --- Excel front end: `potentiel new` and `potentiel serve` --------------------------------
# Heavy imports (xlwings, fastapi, uvicorn) stay inside the commands: `--help` stays fast.


def _cmd_new(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from .problems import UserError
    from .resources import workbooks_dir

    target = Path(args.workbook)
    if target.suffix.lower() != ".xlsm":
        raise UserError(_("{target}: a Potentiel workbook has buttons (macros), so it must end "
                          "in .xlsm, e.g. {name}").format(
                            target=target, name=target.with_suffix('.xlsm').name))
    module = target.stem
    if not module.isidentifier() or module.startswith("_"):
        fixed = "".join(c if c.isalnum() else "_" for c in module).strip("_") or "portfolio"
        fixed = fixed if fixed[0].isalpha() else "wb_" + fixed
        raise UserError(_("{name}: the buttons run the Python module named like the workbook, "
                          'and "{module}" is not a valid module name; use letters, digits and '
                          "_ only, e.g. {fixed}.xlsm").format(
                            name=target.name, module=module, fixed=fixed))
    glue = target.with_name(module + ".py")
    for path in (target, glue):
        if path.exists() and not args.force:
            raise UserError(_("{path}: already exists; choose another name or add "
                              "--force").format(path=path))
    from .resources import docs_dir
    source = workbooks_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    template = "portfolio-empty.xlsm" if args.empty else "portfolio.xlsm"
    shutil.copyfile(source / template, target)
    shutil.copyfile(source / "portfolio.py", glue)
    what = _("with an empty Accounts table") if args.empty else _("with 200 sample accounts")
    print(_("Created {target} ({what}) and its button module {name} (keep them side by "
            "side).").format(target=target, what=what, name=glue.name))
    print(_("Open the workbook in Excel, allow macros, paste your accounts and press "
            "Recompute; setup steps: {path}").format(path=docs_dir() / "excel.md"))
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    from .problems import UserError
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UserError(_("potentiel serve needs the server extra: pip install "
                          "'potentiel[server]' (FastAPI and uvicorn)")) from None
    from .server import TOKEN_ENV, check_token

    try:
        check_token(os.environ.get(TOKEN_ENV))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if bool(args.certfile) != bool(args.keyfile):
        raise UserError(_("give both --certfile and --keyfile, or neither"))
    try:
        from .server import serve
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(_("warning: listening on {host}, not only this computer; use HTTPS "
                    "(--certfile/--keyfile or a proxy) so the token is not sent in clear").format(
                      host=args.host),
                  file=sys.stderr)
        serve(args.host, args.port, plugin_dirs=args.plugins or (), certfile=args.certfile,
              keyfile=args.keyfile)
    except RuntimeError as exc:  # no xlwings licence key for the remote interpreter
        raise UserError(str(exc)) from None
    return EXIT_OK


def _add_excel_commands(sub) -> None:
    p = sub.add_parser("new", help="create a workbook from the template (with its buttons)",
                       description="Copy the template workbook to WORKBOOK (.xlsm) and its "
                                   "button module (WORKBOOK's name, .py) next to it.")
    p.add_argument("workbook", help="the new .xlsm file")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--empty", action="store_true",
                   help="start with an empty Accounts table instead of 200 sample accounts")
    p.set_defaults(func=_cmd_new)

    p = sub.add_parser("serve", help="serve the Excel entry points over HTTP (xlwings Server)",
                       description="Run recompute, check-rules and explain as xlwings Server "
                                   "endpoints, plus the Office.js task pane. Needs "
                                   "POTENTIEL_TOKEN (the bearer token clients send) and "
                                   "XLWINGS_LICENSE_KEY (xlwings PRO; 'noncommercial' for "
                                   "non-commercial use only).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: "
                                                       "127.0.0.1, this computer only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--plugins", metavar="DIR", action="append",
                   help="extra plugin folder loaded by the server; may be repeated")
    p.add_argument("--certfile", help="TLS certificate (PEM), for HTTPS")
    p.add_argument("--keyfile", help="TLS private key (PEM), for HTTPS")
    p.set_defaults(func=_cmd_serve)


# --- end of the Excel front end block -------------------------------------------------------


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    """--rules, --plugins and --engine, as every command that scores takes them."""
    p.add_argument("--rules", metavar="FILE", help="rule file (wins over Settings)")
    p.add_argument("--plugins", metavar="DIR", action="append",
                   help="extra plugin folder (.py files); may be repeated")
    p.add_argument("--engine", choices=("durable", "compiled"),
                   help="rules engine (default: durable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="potentiel",
        description="Score B2B clients and prospects: criteria, weights, categories A/B/C/D, "
                    "rules, portfolio matrix and the accounts making 80 % of revenue.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("score", help="recompute a workbook, or score a CSV or Parquet file",
                       description="Recompute WORKBOOK: read the Accounts, Settings and "
                                   "Salespeople sheets, score, and write the output columns "
                                   "and the Matrix, Summary and Log sheets. Without -o the "
                                   "workbook is updated in place and the previous version is "
                                   "kept as NAME.backup.xlsx. A CSV (; , or tab, UTF-8 or "
                                   "Windows-1252) or Parquet file is scored into OUT: .csv "
                                   "or .parquet (the inputs and the output columns) or .xlsx "
                                   "(a new workbook); without -o, into NAME.scored.csv or "
                                   "NAME.scored.parquet.")
    p.add_argument("workbook", help="the .xlsx, .xlsm, .csv or .parquet file")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="write the result here instead (.xlsx, .xlsm, .csv or .parquet)")
    _add_scoring_options(p)
    p.add_argument("--top", metavar="N", type=_count, default=0,
                   help="also print the N best accounts: best category first, then highest "
                        "score (accounts without a category are not listed)")
    p.add_argument("--sales", metavar="LINES",
                   help="invoice lines (.xlsx, .csv or .parquet): revenue N, N-1, N-2, last "
                        "order and orders "
                        "per account (instead of the workbook's Sales sheet)")
    p.add_argument("--preview", action="store_true",
                   help="write nothing: print which accounts the current Settings and rules "
                        "would move between categories, and why (with -o OUT, write only the "
                        "Preview sheet, to OUT)")
    p.add_argument("--history", metavar="FILE",
                   help="keep the run's snapshot in this .parquet or .csv file instead of the "
                        "workbook's hidden History sheet")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("plan", help="visits against rep capacity, objectives per rep, day "
                                    "tours, a rep's territory",
                       description="Recompute WORKBOOK as score does, then write the plan: "
                                   "the Plan sheet (per rep, the visits a year the categories "
                                   "ask against the rep's capacity, the load, the accounts out "
                                   "of reach, and the reps the portfolio needs by the workload "
                                   "method) and the Objectives sheet (the Revenue target of "
                                   "Settings split by each rep's potential, growth asked, the "
                                   "fragility action list), and the Tours sheet (each rep's "
                                   "year of day tours from their base: week, day, accounts in "
                                   "visit order, km; the accounts not placed, with why and "
                                   "their cell). With --rep, that rep's Territory "
                                   "sheet: A accounts, fragility zone, prospects within reach. "
                                   "See docs/plan.md.")
    p.add_argument("workbook", help="the .xlsx or .xlsm workbook")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="write the result here instead (.xlsx or .xlsm)")
    p.add_argument("--rep", metavar="NAME",
                   help="also write this rep's territory (a name of the Salesperson column or "
                        "of Salespeople)")
    _add_scoring_options(p)
    p.add_argument("--sales", metavar="LINES",
                   help="invoice lines (.xlsx, .csv or .parquet) instead of the Sales sheet")
    p.set_defaults(func=_cmd_plan)
    p = sub.add_parser("changes", help="what changed since an earlier run, from the history",
                       description="Print the accounts whose category changed between an "
                                   "earlier run and the last one, with each one's category "
                                   "trend, from the workbook's History sheet (or its History "
                                   "file, or a .csv/.parquet history file). Nothing is "
                                   "written.")
    p.add_argument("file", help="the workbook (.xlsx, .xlsm) or a history file (.csv, .parquet)")
    p.add_argument("--since", metavar="DATE|RUN",
                   help="the earlier run: a run number, or a date (the last run on or before "
                        "it); default: the run before the last")
    p.add_argument("--account", metavar="ID", help="instead, every kept run of one account")
    p.add_argument("--history", metavar="FILE",
                   help="the workbook's history file, when it is not the one Settings name")
    p.set_defaults(func=_cmd_changes)

    rules = sub.add_parser("rules", help="check or test a rule file")
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rsub.required = True
    p = rsub.add_parser("check", help="validate a rule file; exit 1 with file:line messages")
    p.add_argument("file")
    _add_lang(p)
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.set_defaults(func=_cmd_rules_check)
    p = rsub.add_parser("test", help="run the rule file's own test cases")
    p.add_argument("file")
    _add_lang(p)
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.add_argument("--engine", choices=("durable", "compiled"),
                   help="rules engine the tests run on (default: durable)")
    p.set_defaults(func=_cmd_rules_test)

    p = sub.add_parser("inspect", help="how a file is read: header row, columns, rows left out",
                       description="Read FILE as score would and print how: the sheet and "
                                   "header row found, each column and the field it fills (or "
                                   "why it is not used), the rows left out, per field the "
                                   "cells read, blank and unreadable, the first accounts as "
                                   "read and every notice. Nothing is written.")
    p.add_argument("file", help="the workbook (.xlsx or .xlsm)")
    p.add_argument("--rules", metavar="FILE", help="rule file (wins over Settings)")
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.add_argument("--sales", metavar="LINES",
                   help="invoice lines (.xlsx, .csv, .parquet): how they are read, and the "
                        "accounts merged with them")
    p.add_argument("--rows", metavar="N", type=int, default=5,
                   help="how many accounts to show as read (default 5)")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("backtest", help="did last year's categories predict this year's "
                                        "revenue? and suggested weights",
                       description="Compare last year's categories (LAST: the workbook "
                                   "scored last year, or a snapshot or History file; "
                                   "without --last, the run of FILE's own history about a "
                                   "year before its last run) with this year's "
                                   "revenue (FILE's accounts, or --revenue invoice lines): "
                                   "revenue, growth and lift per category, whether A > B > C "
                                   "> D holds, the rank correlation of score and revenue, "
                                   "prospects' conversion, and suggested weights (a "
                                   "proposal, never applied). Writes the Backtest sheet "
                                   "into FILE (the previous version kept as "
                                   "NAME.backup.xlsx) or into OUT.")
    p.add_argument("file", help="this year's workbook (.xlsx, .xlsm), or a CSV or Parquet "
                                "file (then printed only)")
    p.add_argument("--last", metavar="LAST", action="append",
                   help="last year's scored workbook (.xlsx, .xlsm), scored CSV or Parquet, "
                        "snapshot file (account, score, category …) or History file; give it "
                        "twice, the older first, to judge the suggested weights on the later "
                        "year (default: FILE's own history, its run about a year before the "
                        "last)")
    p.add_argument("--revenue", metavar="LINES",
                   help="this year's revenue from invoice lines (.xlsx, .csv, .parquet) "
                        "instead of FILE's accounts")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="write the workbook with its Backtest sheet here instead")
    p.add_argument("--rules", metavar="FILE", help="rule file (wins over Settings)")
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.set_defaults(func=_cmd_backtest)

    p = sub.add_parser("fields", help="every field and the headers it accepts (French, English)")
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.set_defaults(func=_cmd_fields)

    p = sub.add_parser("plugins", help="list criteria and where each comes from")
    p.add_argument("--plugins", metavar="DIR", action="append", help="extra plugin folder")
    p.set_defaults(func=_cmd_plugins)
    _add_excel_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    lang = (args.lang or env_language()) if hasattr(args, "lang") else None
    with use_language(lang):
        return _run(func, args)


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from .problems import UserError

    try:
        return func(args)
    except UserError as exc:
        for p in exc.problems:
            print(_("error: {message}").format(message=shown(p, one_line=True)), file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print(_("interrupted; nothing was written"), file=sys.stderr)
        return 130
    except BrokenPipeError:  # `potentiel score … | head`: the reader went away, not an error
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
