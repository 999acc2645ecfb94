"""Customer segments: one recipe, two outputs (returned as a dict)."""

import pandas as pd
from weir import recipe


@recipe(outputs=["loyal_customers", "one_time_customers"])
def segment_customers(customer_stats: pd.DataFrame, customers: pd.DataFrame) -> dict:
    """Loyal customers ordered at least three times; one-time customers exactly once."""
    people = customer_stats.merge(customers[["customer_id", "name", "email", "country"]],
                                  on="customer_id")
    return {
        "loyal_customers": people[people["orders"] >= 3].sort_values("revenue",
                                                                     ascending=False),
        "one_time_customers": people[people["orders"] == 1],
    }
