"""Example external plugin: score accounts on their Net Promoter Score.

Install it next to Potentiel (``pip install examples/potentiel-nps``) and ``potentiel
plugins`` lists ``nps``; give it a weight in the rule file or in Settings
(``Weight: nps``). The workbook needs a column ``NPS`` (or ``Net Promoter Score``),
from -100 to 100.
"""

from potentiel import Criterion, Input, Param, Scored, hookimpl


class NetPromoterScore(Criterion):
    name = "nps"
    label = "Net Promoter Score"
    description = "How likely the account is to recommend us (-100 to 100)."
    inputs = (Input("nps", "number", label="NPS", aliases=("Net Promoter Score", "Score NPS"),
                    min=-100, max=100),)
    params = {"floor": Param(-50, "NPS at or below which the score is 0")}
    default_weight = 5

    def score(self, accounts, params):
        nps = accounts["nps"]
        floor = float(params["floor"])
        score = ((nps - floor) / (100 - floor) * 100).clip(0, 100)
        reason = "NPS " + nps.round(0).astype("Int64").astype(str)
        return Scored(score, reason.where(nps.notna()))


@hookimpl
def register_criteria(register):
    register(NetPromoterScore())
