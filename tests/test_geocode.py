"""Places without coordinates (potentiel.sources.geocode) and the detour factor: accounts and
reps located offline from postal code and town, on the shared CRM case and on workbooks
built here, through the headless front end and xlwings' remote path alike."""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import datetime as dt
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import SHARED_CASES, fr, write_workbook, score_headless, score_remote
from potentiel.config import Config, read_settings
from potentiel.pipeline import read_salespeople, score_records, score_tables
from potentiel.portfolio import haversine_km
from potentiel.problems import Problem, UserError
from potentiel.sources import geocode
from potentiel.validate import RawTable

CASE = SHARED_CASES / "sources" / \
    "b_crm_prospects_bands_cities.xlsx"
WHEN = dt.datetime(2026, 3, 2, 9, 30)

# Town halls (Hôtel de Ville), WGS84, as OpenStreetMap and the French Wikipedia place them.
TOWN_HALLS = {
    "Paris": (48.8566, 2.3522),
    "Lyon": (45.7673, 4.8360),
    "Lille": (50.6311, 3.0700),
    "Marseille": (43.2961, 5.3698),
    "Brest": (48.3898, -4.4862),
    "Strasbourg": (48.5853, 7.7506),
}
POSTAL = {"Paris": "75004", "Lyon": "69001", "Lille": "59000", "Marseille": "13002",
          "Brest": "29200", "Strasbourg": "67000"}


def headless(path: Path, **kw):
    return score_headless(path, path.with_name("out" + path.suffix), **kw)


def remote(path: Path, **kw):
    return score_remote(path, **kw)


def case(tmp_path) -> Path:
    assert CASE.exists(), f"missing shared case {CASE}"
    dst = tmp_path / CASE.name
    shutil.copy(CASE, dst)
    return dst


def located(frame):
    return geocode.locate(pd.DataFrame(frame))


NO_SUCH_CODE = 'postal code "{postal}" does not exist'  # a message key (French runs: French)

# ------------------------------------------------------------------- the shared case


@pytest.mark.parametrize("read", [headless, remote], ids=["headless", "xlwings-remote"])
def test_the_crm_case_locates_every_account_and_rep(tmp_path, read):
    result = read(case(tmp_path))
    acc = result.accounts
    assert len(acc) == 40
    assert acc["latitude"].notna().all() and acc["longitude"].notna().all()
    # 2A004 (Ajaccio's INSEE code, not a postal code) falls back on the town; the rest by code
    by = acc["located_by"].value_counts().to_dict()
    assert by == {"postal code": 37, "town": 3}
    # the output says it in the workbook's language (a French CRM export: French)
    assert result.language == "fr"
    shown = {"postal code": "code postal", "town": "ville"}
    assert result.outputs["Located by"].tolist() == [shown[v] for v in acc["located_by"]]
    # the three reps of Commerciaux (by town): every account has a nearest rep
    assert result.has_reps and acc["nearest_rep"].notna().all()
    assert set(acc["nearest_rep"]) == {"J. Martin", "K. Benali", "S. Leroy"}
    rows = acc.set_index("id")
    assert rows.loc["HS-48213", "nearest_rep"] == "J. Martin"  # Lyon, J. Martin's town
    assert rows.loc["HS-48213", "nearest_rep_km"] < 5
    assert rows.loc["HS-48276", "nearest_rep"] == "S. Leroy"   # Paris
    # Saint-Denis 97400 is on La Réunion: 9,000 km, and the 600 km rule applies
    reunion = rows.loc["HS-48269"]
    assert 8_500 < reunion["distance_km"] < 9_500
    flags = result.outputs.set_index(acc["id"])["Flags"]
    assert "inaccessible" in flags["HS-48269"] and "inaccessible" not in flags["HS-48213"]
    assert result.category.notna().all()
    bad = {p.where: p for p in result.warnings if p.kind == "place-approximate"}
    assert set(bad) == {"Comptes!F9", "Comptes!F21", "Comptes!F33"}
    # a French-headed case: the warning is the catalog's French
    assert fr(NO_SUCH_CODE, postal="2A004") in bad["Comptes!F9"].message
    assert bad["Comptes!F9"].column == "Code postal"
    assert not [p for p in result.warnings if p.kind in ("place-not-found", "rep-not-located")]


# ------------------------------------------------------------------- distances


@pytest.mark.parametrize("a, b", [("Paris", "Lyon"), ("Lille", "Marseille"),
                                  ("Brest", "Strasbourg")])
@pytest.mark.parametrize("by", ["postal code", "town"])
def test_distances_between_towns_match_their_town_halls(a, b, by):
    if by == "town":
        found = located({"town": [a, b]})
    else:
        found = located({"postal_code": [POSTAL[a], POSTAL[b]], "town": [None, None]})
    assert found.by.tolist() == [by, by]
    km = haversine_km(found.latitude[0], found.longitude[0], found.latitude[1], found.longitude[1])
    truth = haversine_km(*TOWN_HALLS[a], *TOWN_HALLS[b])
    assert abs(km - truth) <= 15, (a, b, float(km), float(truth))


# ------------------------------------------------------------------- what is typed


def test_typed_coordinates_win_over_the_postal_code():
    found = located({"latitude": [43.0, None], "longitude": [1.0, None],
                     "postal_code": ["75008", "75008"]})
    assert found.by.tolist() == ["typed coordinates", "postal code"]
    assert found.latitude[0] == 43.0 and abs(found.latitude[1] - 48.87) < 0.1


@pytest.mark.parametrize("town, postal", [
    ("Saint-Étienne", None), ("ST ETIENNE", None), ("saint etienne cedex 2", None),
    ("St-Étienne", "42000"), (None, "42000"), (None, "42007 CEDEX 1"), (None, "42007 Cedex"),
    (None, 42000.0),
])
def test_accents_case_saint_hyphens_and_cedex_are_the_same_place(town, postal):
    found = located({"town": [town], "postal_code": [postal]})
    assert found.by[0] in ("town", "postal code") and not found.problems
    assert abs(found.latitude[0] - 45.43) < 0.1 and abs(found.longitude[0] - 4.39) < 0.1


def test_a_postal_code_read_as_a_number_keeps_its_leading_zero():
    found = located({"postal_code": [6000, "06000"], "town": ["Nice", None]})
    assert found.by.tolist() == ["postal code", "postal code"]
    assert abs(found.latitude[0] - 43.70) < 0.05 and abs(found.latitude[1] - 43.70) < 0.05


def test_a_postal_code_that_does_not_exist_is_named_by_cell(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", ["Code client", "Code postal", "Ville"],
                          [["A1", "69002", "Lyon"], ["A2", "99999", None], ["A3", "99999", "Lyon"]])
    result = headless(path)
    acc = result.accounts.set_index("id")
    assert acc["located_by"].tolist() == ["postal code", "not found", "town"]
    problems = {p.where: p for p in result.warnings if p.kind.startswith("place")}
    assert set(problems) == {"Accounts!B3", "Accounts!B4"}
    # French headers: the warnings are the catalog's French
    assert problems["Accounts!B3"].message.startswith(fr(NO_SUCH_CODE, postal="99999"))
    assert problems["Accounts!B3"].kind == "place-not-found"
    assert problems["Accounts!B3"].column == "Code postal"
    assert fr("; located by the town ({town}) instead: correct the code", town="Lyon") \
        in problems["Accounts!B4"].message


def test_an_ambiguous_town_is_said_and_the_postal_code_or_department_settles_it(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", ["Code client", "CP", "Commune"],
                          [["A1", None, "Saint-Denis"], ["A2", "93200", "Saint-Denis"],
                           ["A3", "97400", "St Denis"], ["A4", "93999", "Saint-Denis"]])
    result = headless(path)
    acc = result.accounts.set_index("id")
    assert acc["located_by"].tolist() == ["not found", "postal code", "postal code", "town"]
    assert math.isnan(acc.loc["A1", "latitude"])
    assert abs(acc.loc["A2", "latitude"] - 48.94) < 0.05
    assert abs(acc.loc["A3", "latitude"] + 20.88) < 0.05      # La Réunion
    assert abs(acc.loc["A4", "latitude"] - 48.94) < 0.05      # department 93 from 93999
    said = {p.where: p.message for p in result.warnings if p.kind.startswith("place")}
    # French headers: the warnings are the catalog's French
    ambiguous, add_postal = fr('"{town}" is ambiguous: {n} places have that name{where}; add '
                               'the postal code').split("{where}")
    assert said["Accounts!C2"].startswith(ambiguous.split("{n}")[0].format(town="Saint-Denis"))
    assert "93" in said["Accounts!C2"] and "974" in said["Accounts!C2"]
    assert said["Accounts!C2"].endswith(add_postal)
    assert said["Accounts!B5"].startswith(fr(NO_SUCH_CODE, postal="93999"))


def test_country_from_the_row_or_the_settings(tmp_path):
    rows = [["A1", "1000", "Bruxelles", "Belgique"], ["A2", "1000", "Lausanne", None]]
    path = write_workbook(tmp_path / "a.xlsx", ["Code client", "Code postal", "Ville", "Pays"],
                          rows, settings=[("Pays", "Suisse")])
    acc = headless(path).accounts.set_index("id")
    assert acc["located_by"].tolist() == ["postal code", "postal code"]
    assert abs(acc.loc["A1", "latitude"] - 50.85) < 0.1   # Brussels
    assert abs(acc.loc["A2", "latitude"] - 46.52) < 0.1   # Lausanne
    with pytest.raises(UserError, match="Settings!B2"):
        read_settings([("Country", "Atlantis", "Settings!B2")])


def test_reps_by_postal_code_or_town():
    raw = RawTable(["Nom", "Code postal", "Ville"],
                   [["Anne", "69002", None], ["Bruno", None, "Brest"], ["Chloé", None, "Nowhere"]],
                   sheet="Salespeople")
    warnings: list[Problem] = []
    reps = read_salespeople(raw, warnings)
    assert reps["name"].tolist() == ["Anne", "Bruno", "Chloé"]
    assert abs(reps["latitude"][0] - 45.75) < 0.05 and abs(reps["longitude"][1] + 4.49) < 0.05
    assert math.isnan(reps["latitude"][2])
    where = {p.where: p.message for p in warnings}
    assert '"Nowhere" is not a known town' in where["Salespeople!C4"]
    assert where["Salespeople!A4"].startswith('rep "Chloé" has no place')


# ------------------------------------------------------------------- detour factor


REPS = pd.DataFrame({"name": ["Paris rep"], "latitude": [48.8566], "longitude": [2.3522]})


def test_the_detour_factor_multiplies_distance_km_and_moves_the_too_far_rule():
    # Toulouse is about 590 km from Paris as the crow flies: not too far at 1, too far at 1.25
    records = [{"id": "T", "status": "prospect", "postal_code": "31000", "town": "Toulouse",
                "headcount": 200, "spend_per_employee": 300}]
    from potentiel.manager import load_plugins
    from potentiel.pipeline import _load_ruleset
    plugins = load_plugins()
    ruleset = _load_ruleset(None, plugins)
    straight = score_records(records, plugins, ruleset, Config(weights=dict(ruleset.weights)),
                             salespeople=REPS)
    road = score_records(records, plugins, ruleset,
                         Config(weights=dict(ruleset.weights), detour_factor=1.25),
                         salespeople=REPS)
    km = straight.accounts["nearest_rep_km"][0]
    assert 560 < km < 600
    assert straight.accounts["distance_km"][0] == pytest.approx(km)
    assert road.accounts["nearest_rep_km"][0] == pytest.approx(km)           # great-circle
    assert road.accounts["distance_km"][0] == pytest.approx(km * 1.25)       # by road
    assert "too-far" not in straight.rules.fired[0] and "too-far" in road.rules.fired[0]
    assert "Nearest rep road km" not in straight.outputs
    assert road.outputs["Nearest rep road km"][0] == pytest.approx(round(km * 1.25, 1))
    assert road.outputs["Nearest rep km"][0] == pytest.approx(round(km, 1))
    # the accessibility criterion scores the road distance, and still names the rep
    reason = road.scores.reasons["accessibility"][0]
    assert reason == f"{round(km * 1.25)} km from Paris rep"


def test_a_typed_distance_is_never_multiplied():
    records = [{"id": "T", "distance_km": 100, "postal_code": "31000"}]
    from potentiel.manager import load_plugins
    result = score_records(records, load_plugins(), None, Config(detour_factor=1.25),
                           salespeople=REPS)
    assert result.accounts["distance_km"][0] == 100


@pytest.mark.parametrize("read", [headless, remote], ids=["headless", "xlwings-remote"])
def test_detour_factor_from_settings(tmp_path, read):
    path = write_workbook(tmp_path / "a.xlsx", ["Code client", "Statut", "Code postal", "Ville"],
                          [["T", "prospect", "31000", "Toulouse"]],
                          settings=[("Coefficient de détour", 1.25)],
                          reps=[["Paris rep", 48.8566, 2.3522]])
    result = read(path)
    acc = result.accounts
    assert result.config.detour_factor == 1.25
    assert acc["distance_km"][0] == pytest.approx(acc["nearest_rep_km"][0] * 1.25)
    assert "inaccessible" in result.outputs["Flags"][0]
    assert result.outputs["Nearest rep road km"][0] > 700


@pytest.mark.parametrize("value", ["0.5", "abc", 4])
def test_a_detour_factor_out_of_range_names_its_cell(value):
    with pytest.raises(UserError, match="Settings!B7"):
        read_settings([("Detour factor", value, "Settings!B7")])


def test_no_place_columns_no_located_by_column():
    result = score_records([{"id": "A", "revenue": 10}])
    assert "Located by" not in result.outputs and "located_by" not in result.accounts


def test_locating_runs_in_the_pipeline_for_every_front_end():
    raw = RawTable(["id", "Zip", "City"], [["A", "59000", "Lille"]])
    result = score_tables(raw)
    assert result.outputs["Located by"].tolist() == ["postal code"]
    assert abs(result.accounts["latitude"][0] - 50.63) < 0.05
