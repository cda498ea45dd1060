"""Invoice lines: from the lines a company has to per-account revenue fields.

A source like the others: the front ends hand over the lines as a `RawTable` (a sheet
``Sales`` / ``Ventes`` / ``Invoices`` / ``Factures``, or the file of ``--sales``); this
module reads them with the accounts' reading layer (header row, header aliases, number
coercion, the `ReadingReport`) and gives, per account id:

- ``revenue``, ``revenue_n1``, ``revenue_n2``: the sum of the amounts excl. tax of years N,
  N-1, N-2, credit notes included (negative amounts, or a document-type column saying
  ``Avoir`` / ``Credit note``). Years are calendar years, or fiscal years ending in the
  month of the Settings row ``Fiscal year ends``; N is the last complete year as of the
  latest invoice (a year is complete when the latest invoice falls in its last month). With
  ``Revenue up to`` = a date, N is the 12 months to that date;
- ``last_order_date`` (ISO text), ``days_since_last_order`` (to the latest invoice, or to
  the ``Revenue up to`` date), ``orders_n`` (invoices of year N, credit notes not counted);
- ``revenue_family_<slug>``: revenue N per product family (when a family column exists).

`merge` puts these into the validated accounts: a value typed in Accounts wins, a blank
is filled from the lines, and a run-level notice says which was used, per field. Ids of
the lines missing from Accounts are listed (`with_line_accounts` adds them as clients
when the Settings say so, or when there is no Accounts table at all).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..fields import MONEY, TEXT, Catalogue, Field, normalise
from ..i18n import N_, _
from ..problems import Problem, UserError, cell_ref
from ..validate import RawTable, cell_text, validate
from .reading import ReadingReport

SALES_SHEET_NAMES = ("sales", "ventes", "invoices", "factures", "invoicelines",
                     "lignesdefacture", "lignesdefactures", "saleslines")

LINE_FIELDS: tuple[Field, ...] = (
    Field("account", TEXT, "Account id", ("Code client", "Client code", "Account ID", "Customer ID",
                                          "Client ID", "N° client", "Numéro client", "Compte client",
                                          "Code tiers", "Customer code", "Customer number", "id",
                                          "Identifiant", "Account")),
    Field("invoice", TEXT, "Invoice number", ("N° facture", "Numéro de facture", "Num facture",
                                              "Invoice", "Invoice no", "Invoice #", "Facture",
                                              "N° pièce", "Numéro de pièce", "Document number",
                                              "Document")),
    Field("date", TEXT, "Invoice date", ("Date facture", "Date de facture", "Date", "Date pièce",
                                         "Invoice date", "Document date", "Date de la facture")),
    Field("amount", MONEY, "Amount excl. tax", (
        "Montant HT", "Montant", "Total HT", "HT", "CA HT", "Net HT", "Amount", "Net amount",
        "Amount excl tax", "Amount excluding tax", "Amount (excl. tax)", "Net", "Sales amount",
        "Revenue", "Chiffre d'affaires HT", "Prix total HT")),
    Field("amount_ttc", MONEY, "Amount incl. tax", (
        "Montant TTC", "Total TTC", "TTC", "Amount incl tax", "Amount including tax",
        "Gross amount", "Total incl. tax")),
    Field("family", TEXT, "Product family", ("Famille", "Famille produit", "Famille de produits",
                                             "Product family", "Family", "Gamme",
                                             "Product line", "Catégorie produit")),
    Field("doc_type", TEXT, "Document type", ("Type", "Type de pièce", "Type de document",
                                              "Document type", "Doc type", "Nature")),
    Field("name", TEXT, "Name", ("Client", "Raison sociale", "Nom client", "Customer",
                                 "Customer name", "Account name", "Société", "Nom")),
    Field("salesperson", TEXT, "Salesperson", ("Commercial", "Vendeur", "Rep", "Sales rep",
                                               "Salesperson", "Représentant", "Commercial "
                                               "attitré", "Account manager")),
)

_CREDIT = {"avoir", "avoirs", "av", "creditnote", "creditnotes", "credit", "cn", "ncr",
           "notedecredit", "refund", "remboursement", "avoirclient"}
_INVOICE = {"facture", "factures", "fa", "fac", "invoice", "invoices", "inv", "bill",
            "facturedevente", "salesinvoice"}
_MONTHS = {m: i for i, names in enumerate((
    (), ("january", "jan", "janvier", "janv"), ("february", "feb", "fevrier", "fev", "fevr"),
    ("march", "mar", "mars"), ("april", "apr", "avril", "avr"), ("may", "mai"),
    ("june", "jun", "juin"), ("july", "jul", "juillet", "juil"), ("august", "aug", "aout"),
    ("september", "sep", "sept", "septembre"), ("october", "oct", "octobre"),
    ("november", "nov", "novembre"), ("december", "dec", "decembre"))) for m in names}
_YES = {"yes", "y", "oui", "o", "true", "vrai", "1", "x"}
_NO = {"no", "n", "non", "false", "faux", "0", ""}
FIELDS = ("revenue", "revenue_n1", "revenue_n2", "last_order_date", "days_since_last_order",
          "orders_n")
FAMILY_PREFIX = "revenue_family_"


def line_catalogue() -> Catalogue:
    """The headers of invoice lines Potentiel recognises (French and English)."""
    return Catalogue.build(base=LINE_FIELDS)


@dataclass
class LineSettings:
    """The Settings rows that shape the periods: a fiscal year's last month (12: calendar),
    a ``Revenue up to`` date (then 12-month periods), whether unknown ids are added."""

    year_end_month: int = 12
    up_to: dt.date | None = None
    add_accounts: bool = False


def line_settings(values: dict[str, Any], where: dict[str, str]) -> LineSettings:
    """`LineSettings` from the Settings values (`SettingsOverrides.values`); raises
    `UserError` naming the cell for a month, date or yes/no that cannot be read."""
    out = LineSettings()
    v = values.get("Fiscal year ends")
    if v not in (None, ""):
        out.year_end_month = _month(v, where.get("Fiscal year ends", ""))
    v = values.get("Revenue up to")
    if v not in (None, ""):
        d = _date(v)
        if d is None:
            raise UserError(_('"{value}" is not a date (Revenue up to); type a date such as '
                              "31/12/2025").format(value=v), where.get("Revenue up to", ""))
        out.up_to = d
    v = values.get("Add accounts from invoice lines")
    if v not in (None, ""):
        key = normalise(v) if not isinstance(v, bool) else ("yes" if v else "no")
        if key not in _YES | _NO:
            raise UserError(_('"{value}": say yes or no (Add accounts from invoice '
                              'lines)').format(value=v),
                            where.get("Add accounts from invoice lines", ""))
        out.add_accounts = key in _YES
    return out


def _month(v: Any, where: str) -> int:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() \
            and 1 <= v <= 12:
        return int(v)
    if hasattr(v, "month"):
        return v.month
    key = normalise(v)
    if key.isdigit() and 1 <= int(key) <= 12:
        return int(key)
    if key in _MONTHS:
        return _MONTHS[key]
    raise UserError(_('"{value}" is not a month (Fiscal year ends); type a month such as '
                      "June, juin or 6").format(value=v), where)


# ---------------------------------------------------------------------------- dates

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+Z?)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _date(v: Any, month_first: bool = False) -> dt.date | None:
    """A cell as a date, or None: a date or datetime, an Excel serial number (1970–2099),
    ISO text (what xlwings remote sends) or day/month/year text (month/day when
    ``month_first``)."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date()
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        if math.isfinite(v) and 25569 <= v < 73051 and float(v).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(v))
        return None
    if not isinstance(v, str):
        return None
    text = v.strip()
    m = _ISO.match(text)
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        m = _DMY.match(text)
        if m:
            a, b, y = int(m[1]), int(m[2]), int(m[3])
            y = y + 2000 if y < 100 else y
            day, month = (b, a) if month_first else (a, b)
            return dt.date(y, month, day)
    except ValueError:
        return None
    return None


def _month_first(texts: list[str]) -> bool:
    """Day/month unless the column's texts show month/day (a second part above 12, no
    first part above 12)."""
    firsts, seconds = [], []
    for t in texts:
        m = _DMY.match(t.strip())
        if m:
            firsts.append(int(m[1]))
            seconds.append(int(m[2]))
    return bool(seconds) and max(seconds) > 12 and max(firsts) <= 12


# ---------------------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    label: str      # "2025", "FY ending June 2025", "12 months to 30/06/2025"
    start: dt.date  # first day, inclusive
    end: dt.date    # last day, inclusive


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _minus_years(d: dt.date, n: int) -> dt.date:
    try:
        return d.replace(year=d.year - n)
    except ValueError:  # 29 February
        return d.replace(year=d.year - n, day=28)


MONTH_NAMES = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
               N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
               N_("December"))


def periods(latest: dt.date, settings: LineSettings) -> tuple[list[Period], str]:
    """Years N, N-1, N-2 (in that order) and a note saying how N was chosen."""
    if settings.up_to is not None:
        end = settings.up_to
        out = []
        for k in range(3):
            e = _minus_years(end, k)
            out.append(Period(_("12 months to {date:%d/%m/%Y}").format(date=e),
                              _minus_years(end, k + 1) + dt.timedelta(days=1), e))
        return out, _("N is the 12 months to {date:%d/%m/%Y} (Settings: Revenue up to)").format(
            date=end)
    m = settings.year_end_month
    year = latest.year if latest.month <= m else latest.year + 1  # the year holding latest
    complete = latest >= dt.date(year, m, 1)
    n = year if complete else year - 1

    def label(y: int) -> str:
        if m == 12:
            return str(y)
        return _("FY ending {month} {year}").format(month=_(MONTH_NAMES[m - 1]), year=y)

    out = [Period(label(y), _month_end(y - 1, m) + dt.timedelta(days=1), _month_end(y, m))
           for y in (n, n - 1, n - 2)]
    kind = _("calendar year") if m == 12 else \
        _("fiscal year ending in {month}").format(month=_(MONTH_NAMES[m - 1]))
    if complete:
        why = _("the latest invoice, {date:%d/%m/%Y}, is in its last month, so it is taken as "
                "complete").format(date=latest)
    else:
        why = _("the latest invoice, {date:%d/%m/%Y}, is before the last month of {period}, "
                "which is not complete yet").format(date=latest, period=label(year))
    return out, _("N is {period} ({kind}): {why}; set Revenue up to (a date) for the 12 "
                  "months to a date").format(period=out[0].label, kind=kind, why=why)


# ---------------------------------------------------------------------------- reading

@dataclass
class Lines:
    """What the invoice lines gave: per-account fields (index: account id as text), the
    reading report of the lines, notices, the periods, and the names read."""

    fields: pd.DataFrame
    report: ReadingReport
    warnings: list[Problem] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    period_note: str = ""
    names: dict[str, str] = field(default_factory=dict)
    lines_used: int = 0
    sheet: str = ""
    settings: LineSettings = field(default_factory=LineSettings)
    covered: dict[str, bool] = field(default_factory=dict)  # revenue field → lines cover it
    added: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # rows added (front ends write them)
    reps: dict[str, str] = field(default_factory=dict)  # id → rep of its most recent line
    period_lines: dict[str, int] = field(default_factory=dict)  # revenue field → lines in it
    with_lines: dict[str, set[str]] = field(default_factory=dict)  # revenue field → ids
    # per account of Accounts (its index), the values the lines gave, once merged: what
    # the output columns `OUTPUT_COLUMNS` show; None when the lines were not merged
    given: pd.DataFrame | None = None

    @property
    def families(self) -> list[str]:
        return [c for c in self.fields.columns if c.startswith(FAMILY_PREFIX)]


def read_lines(raw: RawTable, settings: LineSettings | None = None) -> Lines:
    """Per-account fields from invoice lines. Raises `UserError` when the lines have no
    account id, date or amount column (naming the headers there)."""
    settings = settings or LineSettings()
    catalogue = line_catalogue()
    checked = validate(raw, catalogue)
    report = checked.report
    warnings = [p for p in checked.warnings if p.kind != "no-id-column"]
    report.notices = [p for p in report.notices if p.kind != "no-id-column"]
    cols = checked.columns
    extra_cells = {raw.header_cell(j) for j in checked.extras.values()}
    for c in report.columns:  # other columns of the lines are not read (no rule sees lines)
        if c.field is None and c.cell in extra_cells:
            c.note = _("not a column of invoice lines Potentiel reads")
    missing = [catalogue[f].title for f in ("account", "date") if f not in cols]
    if "amount" not in cols and "amount_ttc" not in cols:
        missing.append(_("Amount excl. tax (Montant HT)"))
    if missing:
        shown = ", ".join(str(h) for h in raw.headers if h not in (None, ""))[:300]
        raise UserError(_("the invoice lines have no {missing} column (headers: {shown}); "
                          "name them e.g. Code client, Date facture, Montant HT").format(
                              missing=" / ".join(missing), shown=shown),
                        f"{raw.sheet}!{raw.header_row}:{raw.header_row}")
    lines = checked.accounts
    amount_col = "amount"
    if "amount" in cols and "amount_ttc" in cols:
        j = cols["amount_ttc"]
        _not_used(report, "amount_ttc", _("not used: the amounts excl. tax (HT) are read"))
        warnings.append(Problem(_('column "{header}" (incl. tax) is not used: revenue is read '
                                  'from "{amount}" (excl. tax)').format(
                                      header=raw.headers[j], amount=raw.headers[cols["amount"]]),
                                raw.header_cell(j), kind="ttc-not-used"))
    elif "amount" not in cols:
        amount_col = "amount_ttc"
        warnings.append(Problem(_('no amount excl. tax: revenue is read from "{header}", tax '
                                  "included; add a Montant HT column for revenue excl. "
                                  "tax").format(header=raw.headers[cols["amount_ttc"]]),
                                raw.header_cell(cols["amount_ttc"]), kind="ttc-used"))
    # dates, read from the raw cells (validate keeps text fields as text)
    j_date = cols["date"]
    cells = [raw.rows[p][j_date] if j_date < len(raw.rows[p]) else None for p in lines.index]
    month_first = _month_first([c for c in cells if isinstance(c, str)])
    dates = [_date(c, month_first) for c in cells]
    date_s = pd.Series(dates, index=lines.index, dtype=object)
    if month_first:
        warnings.append(Problem(_("{header}: dates read as month/day/year (a second number "
                                  "above 12 was seen)").format(header=raw.headers[j_date]),
                                raw.header_cell(j_date),
                                kind="month-first"))
    amount = lines[amount_col].astype(float)
    account = lines["account"]
    ok = pd.Series(True, index=lines.index)
    bad_date = date_s.isna()
    for pos in lines.index[bad_date & account.notna()]:
        c = cells[lines.index.get_loc(pos)]
        what = _("no date") if c is None or (isinstance(c, str) and not c.strip()) else \
            _('"{value}" is not a date').format(value=c)
        warnings.append(Problem(_("{what}; this line is not counted: type a date such as "
                                  "31/12/2025").format(what=what), raw.cell(int(pos), j_date),
                                "warning",
                                "unreadable-date", str(raw.headers[j_date])))
    j_amount = cols[amount_col]
    for pos in lines.index[amount.isna() & account.notna() & ~bad_date]:
        warnings.append(Problem(_("no usable amount; this line is not counted"),
                                raw.cell(int(pos), j_amount), "warning", "unreadable-amount",
                                str(raw.headers[j_amount])))
    no_id = account.isna() & (amount.notna() | date_s.notna())
    for pos in lines.index[no_id]:
        warnings.append(Problem(_("a line without a client code is not counted"),
                                raw.cell(int(pos), cols["account"]), "warning", "no-account",
                                str(raw.headers[cols["account"]])))
    ok &= ~bad_date & amount.notna() & account.notna()
    # credit notes from a document-type column
    credit = amount < 0
    if "doc_type" in cols:
        kinds = lines["doc_type"].map(lambda v: None if v is None else normalise(v))
        is_credit = kinds.isin(_CREDIT)
        positive = is_credit & (amount > 0)
        if positive.any():
            warnings.append(Problem(
                _("{n} credit note(s) typed with a positive amount are counted as negative "
                  "(the document type says credit note)").format(n=int(positive.sum())),
                raw.header_cell(cols["doc_type"]), kind="credit-positive",
                column=str(raw.headers[cols["doc_type"]])))
        amount = amount.where(~is_credit, -amount.abs())
        credit |= is_credit
        unknown = kinds.notna() & ~is_credit & ~kinds.isin(_INVOICE)
        if unknown.any():
            seen = ", ".join(sorted({str(v) for v in lines["doc_type"][unknown]})[:5])
            warnings.append(Problem(
                _("{n} line(s) of a document type that is neither an invoice nor a credit "
                  "note ({seen}) are counted as typed (amount sign kept)").format(
                      n=int(unknown.sum()), seen=seen),
                raw.header_cell(cols["doc_type"]), kind="doc-type",
                column=str(raw.headers[cols["doc_type"]])))
    data = pd.DataFrame({"account": account[ok], "date": pd.to_datetime(date_s[ok].tolist()),
                         "amount": amount[ok], "credit": credit[ok]}, index=lines.index[ok])
    data["document"] = lines["invoice"][ok] if "invoice" in cols else \
        pd.Series([f"line{p}" for p in data.index], index=data.index)
    if "family" in cols:
        data["family"] = lines["family"][ok]
    names = {}
    if "name" in cols:
        first = lines[["account", "name"]].dropna().drop_duplicates("account")
        names = dict(zip(first["account"], first["name"]))
    reps: dict[str, str] = {}
    if "salesperson" in cols:
        # the rep of each account's most recent line (a line without a rep does not count)
        with_rep = data.assign(rep=lines["salesperson"][ok]).dropna(subset=["rep"])
        latest_rep = with_rep.sort_values("date", kind="stable").drop_duplicates(
            "account", keep="last")
        reps = dict(zip(latest_rep["account"], latest_rep["rep"].map(str)))
        for c in report.columns:
            if c.field == "salesperson":
                c.note = _("the rep of each account's most recent line, for the accounts "
                           "with no salesperson in Accounts")
    out = Lines(pd.DataFrame(), report, warnings, names=names, sheet=raw.sheet,
                settings=settings, reps=reps)
    if data.empty:
        warnings.append(Problem(_("no invoice line could be read (client code, date and "
                                  "amount)"),
                                raw.sheet))
        return out
    latest = data["date"].max().date()
    earliest = data["date"].min().date()
    ps, note = periods(latest, settings)
    out.periods, out.period_note = ps, note
    reference = settings.up_to or latest
    after = data["date"].dt.date > ps[0].end
    before = data["date"].dt.date < ps[2].start
    if after.any():
        warnings.append(Problem(_("{n} line(s) dated after {date:%d/%m/%Y}, the end of year "
                                  "N, are not in revenue N (they count for the last order "
                                  "date)").format(n=int(after.sum()), date=ps[0].end),
                                raw.sheet, kind="after-n"))
    if before.any():
        warnings.append(Problem(_("{n} line(s) dated before {date:%d/%m/%Y}, older than N-2, "
                                  "are not counted").format(n=int(before.sum()),
                                                            date=ps[2].start),
                                raw.sheet, kind="before-n2"))
    fields = pd.DataFrame(index=pd.Index(sorted(data["account"].unique()), name="id"))
    day = data["date"].dt.date
    for name, p in zip(("revenue", "revenue_n1", "revenue_n2"), ps):
        inside = (day >= p.start) & (day <= p.end)
        out.period_lines[name] = int(inside.sum())
        out.with_lines[name] = set(data["account"][inside])
        # a period the lines do not reach back to is unknown, not 0
        covered = earliest <= p.start + dt.timedelta(days=31)
        out.covered[name] = covered
        if not covered:
            warnings.append(Problem(_("{field} ({period}) is not computed: the lines start "
                                      "on {date:%d/%m/%Y}").format(
                                          field=name.replace("_n", " N-"), period=p.label,
                                          date=earliest), raw.sheet, kind="not-covered"))
            fields[name] = np.nan
            continue
        sums = data["amount"][inside].groupby(data["account"][inside]).sum()
        fields[name] = sums.reindex(fields.index).fillna(0.0).round(2)
    # orders: documents (invoice numbers, else lines) with a positive total, not credit notes
    docs = data[~data["credit"]].groupby(["account", "document"], sort=False).agg(
        date=("date", "max"), amount=("amount", "sum"))
    docs = docs[docs["amount"] > 0].reset_index()
    last = docs.groupby("account")["date"].max()
    fields["last_order_date"] = [None if pd.isna(v) else v.date().isoformat()
                                 for v in last.reindex(fields.index)]
    fields["days_since_last_order"] = [float((reference - v.date()).days) if not pd.isna(v)
                                       else np.nan for v in last.reindex(fields.index)]
    in_n = (docs["date"].dt.date >= ps[0].start) & (docs["date"].dt.date <= ps[0].end)
    fields["orders_n"] = docs[in_n].groupby("account").size().reindex(fields.index).fillna(0)\
        .astype(float)
    if "family" in data:
        inside = (day >= ps[0].start) & (day <= ps[0].end) & data["family"].notna()
        fam = data[inside].groupby(["account", "family"])["amount"].sum().unstack(fill_value=0.0)
        slugs: dict[str, str] = {}
        for f in fam.columns:
            slug = FAMILY_PREFIX + (re.sub(r"[^0-9a-z]+", "_", _ascii(f).lower()).strip("_")
                                    or "other")
            if slug in slugs.values():
                fam[slug] = fam[slug] + fam[f] if slug in fam else fam[f]
            slugs[f] = slug
        fam = fam.T.groupby(pd.Series(slugs)).sum().T
        for c in fam.columns:
            fields[c] = fam[c].reindex(fields.index).fillna(0.0).round(2)
        warnings.append(Problem(_("revenue N per product family read as fields rules can "
                                  "read: {names}").format(names=", ".join(sorted(fam.columns)[:8]))
                                + (" …" if len(fam.columns) > 8 else ""),
                                raw.header_cell(cols["family"]), kind="families"))
    out.fields = fields
    out.lines_used = int(len(data))
    warnings.insert(0, Problem(_("invoice lines: {note}; {n:,} lines read for {codes} client "
                                 "codes").format(note=note, n=out.lines_used, codes=len(fields)),
                               raw.sheet, kind="periods"))
    return out


def _ascii(text: Any) -> str:
    import unicodedata
    return unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")


def _not_used(report: ReadingReport, name: str, note: str) -> None:
    for c in report.columns:
        if c.field == name:
            c.field, c.note = None, note


# ---------------------------------------------------------------------------- accounts

def with_line_accounts(raw: RawTable, lines: Lines, catalogue: Catalogue) -> RawTable:
    """The accounts table, with the client codes of the lines missing from it appended as
    rows (id, name, status "client" and the rep of the most recent line, where those
    columns exist) when the Settings say
    ``Add accounts from invoice lines`` = yes, or when the table has no account at all.
    ``lines.added`` receives each added row (sheet row, header → value) for the front ends
    to write. Never changes ``raw``."""
    if lines.fields.empty:
        return raw
    cols: dict[str, int] = {}
    for j, h in enumerate(raw.headers):
        name = catalogue.match(h) if h not in (None, "") else None
        if name and name not in cols:
            cols[name] = j
    if "id" not in cols:
        return raw
    have = {cell_text(r[cols["id"]]) for r in raw.rows if cols["id"] < len(r)}
    have.discard(None)
    new = [i for i in lines.fields.index if i not in have]
    empty = not have
    if not new or not (lines.settings.add_accounts or empty):
        return raw
    last = raw.row_numbers[-1] if raw.rows else raw.header_row
    rows = [list(r) for r in raw.rows]
    row_numbers = list(raw.row_numbers)
    for k, i in enumerate(new):
        row: list[Any] = [None] * len(raw.headers)
        row[cols["id"]] = i
        if "name" in cols and i in lines.names:
            row[cols["name"]] = lines.names[i]
        if "status" in cols:
            row[cols["status"]] = "client"
        if "salesperson" in cols and i in lines.reps:
            row[cols["salesperson"]] = lines.reps[i]
        rows.append(row)
        row_numbers.append(last + 1 + k)
        lines.added.append((last + 1 + k, {raw.headers[j]: row[j] for j in range(len(row))
                                           if row[j] is not None}))
    why = (_("the Accounts table has no account, so the accounts are the client codes of the "
             "invoice lines") if empty else
           _("Settings: Add accounts from invoice lines = yes"))
    lines.warnings.append(Problem(_("{n} account(s) added from the invoice lines ({why}); they "
                                    "are written as rows of Accounts, where you may complete "
                                    "them (name, headcount, …)").format(n=len(new), why=why),
                                  cell_ref(raw.sheet, last + 1, raw.col_numbers[cols["id"]]),
                                  kind="accounts-added"))
    return replace(raw, rows=rows, row_numbers=row_numbers)


# The output columns Potentiel writes when the lines are merged: per account, what the
# lines gave (whether or not a typed value won), by field.
OUTPUT_COLUMNS = {"revenue": N_("Revenue N (from invoices)"),
                  "revenue_n1": N_("Revenue N-1 (from invoices)"),
                  "revenue_n2": N_("Revenue N-2 (from invoices)"),
                  "last_order_date": N_("Last order (from invoices)"),
                  "orders_n": N_("Orders N (from invoices)")}
MATCH_SHARE = 0.1  # fewer ids in common than this share of the smaller side: not the same codes
_REVENUE = ("revenue", "revenue_n1", "revenue_n2")


def output_columns(lines: Lines | None, index: pd.Index) -> dict[str, pd.Series]:
    """Output header → values per account (``index``: the accounts'), for the fields the
    merged lines gave; empty when no lines were merged."""
    if lines is None or lines.given is None:
        return {}
    return {OUTPUT_COLUMNS[f]: lines.given[f].reindex(index) for f in OUTPUT_COLUMNS
            if f in lines.given}


def _first(ids: Any, n: int = 3) -> str:
    ids = list(ids)
    return ", ".join(str(i) for i in ids[:n]) + (", …" if len(ids) > n else "")


def _codes_differ(codes: list[str], ids: pd.Series, n_match: int) -> Problem:
    """The run-level warning when the lines' client codes are not the ids of Accounts."""
    known = list(dict.fromkeys(ids.dropna()))
    if n_match == 0:
        msg = _("none of the {n} client codes of the invoice lines ({codes}) is an id of "
                "Accounts ({ids}): check both use the same client code; revenue is not "
                "taken from the lines")
    else:
        msg = _("only {k} of the {n} client codes of the invoice lines ({codes}) are ids of "
                "Accounts ({ids}): check both use the same client code; revenue is not "
                "taken from the lines")
    return Problem(msg.format(n=len(codes), k=n_match, codes=_first(codes), ids=_first(known)),
                   "", kind="ids-do-not-match")


def merge(accounts: pd.DataFrame, lines: Lines | None, warnings: list[Problem]) -> set[str]:
    """Fill the accounts' fields from the lines, in place; returns the fields filled.

    A value typed in Accounts wins; a blank is filled from the lines. An account of
    Accounts without any line has revenue 0 in the years the lines cover (counted in the
    notice). Client codes of the lines missing from Accounts are listed in one notice. One
    run-level notice per field says how many values came from the lines and how many were
    typed. When no client code of the lines, or almost none (fewer than `MATCH_SHARE` of
    the smaller side), is an id of Accounts, nothing is merged and one warning names a few
    ids of each side. A blank salesperson takes the rep of the account's most recent line.
    Once merged, ``lines.given`` holds per account what the lines gave (`output_columns`).
    """
    if lines is None or lines.fields.empty:
        if lines is not None:
            warnings.extend(lines.warnings)
        return set()
    warnings.extend(lines.warnings)
    if "id" not in accounts:
        warnings.append(Problem(_("the accounts have no id column (Code client), so the "
                                  "invoice lines cannot be matched to them; add one"),
                                "Accounts"))
        return set()
    ids = accounts["id"].map(cell_text)
    known = set(ids.dropna())
    codes = list(lines.fields.index)
    unknown = [i for i in codes if i not in known]
    n_match = len(codes) - len(unknown)
    if n_match < max(1.0, MATCH_SHARE * min(len(codes), len(known))):
        warnings.insert(0, _codes_differ(codes, ids, n_match))
        return set()
    if unknown:
        shown = ", ".join(unknown[:10]) + (_(" and {n} more").format(n=len(unknown) - 10)
                                           if len(unknown) > 10 else "")
        revenue = lines.fields.loc[unknown, "revenue"].sum()
        warnings.append(Problem(
            _("{n} client code(s) of the invoice lines are not in Accounts ({shown}; revenue "
              "N {revenue:,.0f}); they are not scored: add them to Accounts, or set Add "
              "accounts from invoice lines = yes in Settings").format(
                  n=len(unknown), shown=shown, revenue=revenue), lines.sheet,
            kind="unknown-ids"))
    src = lines.fields.reindex(ids.to_numpy())
    src.index = accounts.index
    matched = ids.isin(lines.fields.index)
    filled: set[str] = set()
    given = pd.DataFrame(index=accounts.index)
    n_label = lines.periods[0].label if lines.periods else "N"
    for name in lines.fields.columns:
        values = src[name]
        if name in _REVENUE or name.startswith(FAMILY_PREFIX) or name == "orders_n":
            if lines.covered.get(name, True):
                values = values.where(matched | ids.isna(), 0.0)
        if name in OUTPUT_COLUMNS and lines.covered.get(name, True):
            given[name] = values
        if name in accounts:
            typed = accounts[name].notna()
            accounts[name] = accounts[name].where(typed, values)
        else:
            typed = pd.Series(False, index=accounts.index)
            accounts[name] = values
        from_lines = int((~typed & values.notna()).sum())
        if from_lines:
            filled.add(name)
        if name in _REVENUE:
            k = _REVENUE.index(name)
            label = "N" if k == 0 else f"N-{k}"
            period = lines.periods[k].label if lines.periods else label
            zero = int((~typed & values.notna() & ids.notna()
                        & ~ids.isin(lines.with_lines.get(name, set()))).sum())
            zeros = _(", 0 for {n} account(s) with no line that year").format(n=zero) \
                if zero else ""
            msg = _("revenue {label} from invoice lines ({period}, {lines:,} lines) for {n} "
                    "account(s){zeros}; typed in Accounts for {typed}").format(
                        label=label, period=period, lines=lines.period_lines.get(name, 0),
                        n=from_lines, zeros=zeros, typed=int(typed.sum()))
            warnings.append(Problem(msg, lines.sheet, kind="revenue-source"))
    lines.given = given
    families = _(" and {n} product-family field(s)").format(n=len(lines.families)) \
        if lines.families else ""
    warnings.append(Problem(_("from invoice lines: last_order_date, days_since_last_order, "
                              "orders_n ({period}){families} for {n} account(s)").format(
                                  period=n_label, families=families, n=int(matched.sum())),
                            lines.sheet,
                            kind="line-fields"))
    if lines.reps:
        reps = ids.map(lambda i: lines.reps.get(i) if i is not None else None)
        blank = accounts["salesperson"].isna() if "salesperson" in accounts else \
            pd.Series(True, index=accounts.index)
        fill = blank & reps.notna()
        if "salesperson" in accounts:
            accounts["salesperson"] = accounts["salesperson"].where(~fill, reps)
        else:
            accounts["salesperson"] = reps.where(fill, None)
        if fill.any():
            filled.add("salesperson")
            warnings.append(Problem(_("salesperson from invoice lines (the rep of the most "
                                      "recent line) for {n} account(s) with none in "
                                      "Accounts").format(n=int(fill.sum())), lines.sheet,
                                    kind="reps-from-lines"))
    return filled
