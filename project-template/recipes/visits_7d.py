"""A rolling week, in Python: weir.partition() says which day this run builds."""

import pandas as pd

import weir
from weir import recipe


@recipe(tags=["web"])
def visits_7d(daily_visits: pd.DataFrame) -> pd.DataFrame:
    """The 7 days up to this one (fewer at the start of the history), per page."""
    day = weir.partition()
    week = daily_visits.groupby("page", as_index=False).agg(visits=("visits", "sum"),
                                                            days=("visit_date", "nunique"))
    return week.assign(visit_date=day.date).sort_values("visits", ascending=False)
