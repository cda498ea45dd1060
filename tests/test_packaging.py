"""Packaging: setup.cfg maps every subpackage, and nothing imports the bare names."""

import ast
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_setup_cfg_lists_every_subpackage():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = {p for p in cfg["options"]["packages"].split() if not p.startswith("potentiel._shipped")}
    mapping = dict(line.split(" = ") for line in cfg["options"]["package_dir"].strip().splitlines())
    assert mapping == {"potentiel": "core", "potentiel.plugins": "plugins",
                       "potentiel._shipped.rules": "rules",
                       "potentiel._shipped.workbooks": "workbooks",
                       "potentiel._shipped.docs": "docs"}
    found = set()
    for top, pkg in (("core", "potentiel"), ("plugins", "potentiel.plugins")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([pkg, *rel.parts]) if rel.parts else pkg)
    assert found == listed


def test_bare_core_and_plugins_are_never_imported():
    offenders = []
    for folder in ("core", "plugins", "tests", "workbooks", "examples", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for n in names:
                    if n.split(".")[0] in ("core", "plugins"):
                        offenders.append(f"{path.relative_to(ROOT)}: {n}")
    assert offenders == []


def test_only_one_module_imports_each_engine():
    owners = {"openpyxl": {"core/headless.py"}, "xlwings": set(), "durable": set()}
    seen = {k: set() for k in owners}
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else [])
            for m in mods:
                top = m.split(".")[0]
                if top in seen:
                    seen[top].add(str(path.relative_to(ROOT)))
    assert seen["openpyxl"] <= owners["openpyxl"]
    assert len(seen["xlwings"]) <= 1 and len(seen["durable"]) <= 1


def test_plugins_import_only_the_public_api():
    for path in (ROOT / "plugins").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("potentiel"):
                # the public API, or the plugins package's own shared helpers
                assert node.module in ("potentiel", "potentiel.plugins._scales"), \
                    f"{path.name} imports {node.module}"


def test_a_wheel_carries_the_rules_and_the_template(tmp_path):
    """A non-editable install (what `pip install .` gives an Excel user) finds
    rules/default.yaml and the workbook template inside the package."""
    import subprocess
    import sys
    import zipfile
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), str(ROOT)], check=True)
    wheel = next(tmp_path.glob("potentiel-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for part in ("potentiel/_shipped/rules/default.yaml",
                 "potentiel/_shipped/rules/clients/office-supplies-co.yaml",
                 "potentiel/_shipped/workbooks/portfolio.xlsm",
                 "potentiel/_shipped/workbooks/portfolio.py",
                 "potentiel/_shipped/workbooks/portfolio-empty.xlsm",
                 "potentiel/_shipped/docs/excel.md",
                 "potentiel/locale/fr/LC_MESSAGES/potentiel.mo",  # compiled at build time
                 "potentiel/i18n.py",
                 "potentiel/plugins/revenue.py", "potentiel/rules/durable_engine.py",
                 "potentiel/resources.py"):
        assert part in names, part
    assert not any(n.startswith(("core/", "plugins/")) for n in names)
