"""The shipped sample workbook: rebuilt by its script, and scored at scale."""

import importlib.util
from pathlib import Path

import openpyxl

from potentiel.headless import score_file

ROOT = Path(__file__).resolve().parents[1]


def load_builder():
    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "workbooks" / "build_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def values(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_shipped_sample_is_what_the_script_builds(tmp_path):
    rebuilt = load_builder().build(tmp_path / "portfolio.xlsx")
    assert values(rebuilt) == values(ROOT / "workbooks" / "portfolio.xlsx")


def test_ten_thousand_accounts_fill_every_output_column(tmp_path):
    path = load_builder().build(tmp_path / "big.xlsx", n=10_000)
    result, _ = score_file(path)
    out = result.outputs
    assert len(out) == 10_000
    ws = openpyxl.load_workbook(path, read_only=True)["Accounts"]
    header = next(ws.iter_rows(max_row=1, values_only=True))
    for name in out.columns:
        assert name in header, name
        filled = out[name].notna() & (out[name] != "")
        assert filled.any(), f"{name} is empty everywhere"
    assert out["Score"].notna().mean() > 0.95
    assert out["Category"].notna().mean() > 0.95
    assert out["Nearest rep km"].notna().mean() > 0.6
