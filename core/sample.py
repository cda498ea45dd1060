"""Realistic sample portfolios, seeded: for the sample workbook, the tests and benchmarks.

Revenue is heavy-tailed (a few accounts make most of it), prospects have a potential but
no revenue, some inputs are missing as in real files, about 5 % of accounts are 600 km or
more from the nearest rep. Same seed, same portfolio, on every machine.
"""

from __future__ import annotations

import numpy as np

# French headers, as a French sales team would type them (English ones work too).
HEADERS = ("Code client", "Raison sociale", "Statut", "Commercial", "Secteur", "CA N", "CA N-1",
           "CA N-2", "Potentiel", "Effectif", "Dépense par salarié", "Incidents de paiement",
           "DSO", "Note de crédit", "Croissance %", "Prescription", "Relation", "Distance (km)",
           "Latitude", "Longitude", "Concurrents")

REPS = (("Claire Martin", 48.8566, 2.3522), ("Julien Bernard", 45.7640, 4.8357),
        ("Sophie Dubois", 44.8378, -0.5792), ("Karim Haddad", 50.6292, 3.0573),
        ("Laura Petit", 43.6047, 1.4442))

CITIES = (("Paris", 48.8566, 2.3522), ("Lyon", 45.7640, 4.8357), ("Bordeaux", 44.8378, -0.5792),
          ("Lille", 50.6292, 3.0573), ("Toulouse", 43.6047, 1.4442), ("Nantes", 47.2184, -1.5536),
          ("Strasbourg", 48.5734, 7.7521), ("Marseille", 43.2965, 5.3698),
          ("Rennes", 48.1173, -1.6778), ("Dijon", 47.3220, 5.0415), ("Rouen", 49.4432, 1.0999),
          ("Grenoble", 45.1885, 5.7245), ("Clermont-Ferrand", 45.7772, 3.0870),
          ("Montpellier", 43.6108, 3.8767), ("Orléans", 47.9030, 1.9093))
FAR = (("Ajaccio", 41.9192, 8.7386), ("Bastia", 42.6977, 9.4509), ("Lisbonne", 38.7223, -9.1393),
       ("Naples", 40.8518, 14.2681), ("Séville", 37.3891, -5.9845))

SECTORS = ("Industrie", "BTP", "Santé", "Commerce", "Services", "Transport", "Agroalimentaire",
           "Informatique", "Administration", "Enseignement")
PREFIX = ("Atelier", "Groupe", "Cabinet", "Transports", "Boulangeries", "Clinique", "Laboratoires",
          "Imprimerie", "Menuiserie", "Garage", "Hôtel", "Maison", "Société", "Établissements",
          "Pharmacie", "Agence", "Bureau", "Studio", "Ferme", "Fonderie")
NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
         "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
         "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont",
         "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau")
SUFFIX = ("SA", "SAS", "SARL", "& Fils", "Frères", "", "", "", "Industries", "Services")
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "14/20", "12/20", "8/20")


def make_accounts(n: int = 200, seed: int = 7) -> list[list[object]]:
    """``n`` rows matching `HEADERS`; blanks are None."""
    rng = np.random.default_rng(seed)
    status = rng.choice(["client", "prospect", "suspect"], size=n, p=[0.72, 0.22, 0.06])
    revenue = np.round(rng.lognormal(mean=10.3, sigma=1.3, size=n), -1)
    headcount = np.round(rng.lognormal(mean=3.6, sigma=1.2, size=n)).astype(int) + 1
    spend = np.round(rng.uniform(120, 900, size=n), 0)
    explicit_pot = rng.random(n) < 0.55
    potential = np.round(np.maximum(revenue * rng.uniform(1.1, 6.0, size=n),
                                    headcount * spend * rng.uniform(0.6, 1.4, size=n)), -2)
    trend1 = rng.normal(0.03, 0.18, size=n)
    trend2 = rng.normal(0.02, 0.15, size=n)
    far = rng.random(n) < 0.05
    rows: list[list[object]] = []
    for i in range(n):
        st = str(status[i])
        is_client = st == "client"
        city = FAR[rng.integers(len(FAR))] if far[i] else CITIES[rng.integers(len(CITIES))]
        lat = round(city[1] + rng.normal(0, 0.15), 4)
        lon = round(city[2] + rng.normal(0, 0.15), 4)
        rev = float(revenue[i]) if is_client else None
        rev1 = round(rev / (1 + trend1[i]), -1) if rev and rng.random() > 0.08 else None
        rev2 = round(rev1 / (1 + trend2[i]), -1) if rev1 and rng.random() > 0.15 else None
        pot = float(potential[i]) if explicit_pot[i] else None
        has_coords = rng.random() > 0.25
        distance = None
        if not has_coords:
            distance = round(float(rng.uniform(620, 950)), 0) if far[i] else round(float(rng.gamma(2.0, 60)), 0)
        name = f"{PREFIX[rng.integers(len(PREFIX))]} {NAMES[rng.integers(len(NAMES))]}"
        suffix = SUFFIX[rng.integers(len(SUFFIX))]
        if suffix:
            name += f" {suffix}"
        rows.append([
            f"C{1001 + i:05d}", name, st.capitalize(), REPS[rng.integers(len(REPS))][0],
            SECTORS[rng.integers(len(SECTORS))], rev, rev1, rev2, pot,
            int(headcount[i]) if rng.random() > 0.1 else None,
            float(spend[i]) if rng.random() > 0.3 else None,
            int(rng.poisson(0.7)) if is_client and rng.random() > 0.1 else None,
            int(rng.gamma(3.0, 15)) if is_client and rng.random() > 0.15 else None,
            RATINGS[rng.integers(len(RATINGS))] if rng.random() > 0.3 else None,
            round(float(rng.normal(4, 9)), 1) if rng.random() > 0.2 else None,
            int(rng.integers(0, 6)) if rng.random() > 0.15 else None,
            int(rng.integers(1, 6)) if is_client and rng.random() > 0.1 else None,
            distance,
            lat if has_coords else None, lon if has_coords else None,
            int(rng.poisson(1.2)) if rng.random() > 0.2 else None,
        ])
    return rows


def reps() -> list[list[object]]:
    """Salespeople: name, latitude, longitude of each rep's base."""
    return [[n, lat, lon] for n, lat, lon in REPS]
