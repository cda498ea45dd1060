"""Glue between the workbook's buttons and Potentiel: xlwings' RunPython runs ``main()``.

The button on Accounts and on Settings calls the workbook's ready macro, which runs
``import portfolio; portfolio.main()`` (the module named like the workbook, next to it).
RunPython does not say which button was pressed, so Potentiel reads the action cell beside
the button (Recompute, Check rules or Explain; blank means Recompute). ``potentiel new``
copies this file next to each new workbook under the workbook's name.

From a terminal, without clicking (the workbook open in Excel): ``python portfolio.py``.
"""

from pathlib import Path

import xlwings as xw

from potentiel.excel import run_button


def main() -> None:
    run_button(xw.Book.caller())


if __name__ == "__main__":
    xw.Book(Path(__file__).with_suffix(".xlsm").name).set_mock_caller()  # the open workbook
    main()
