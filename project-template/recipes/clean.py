"""Cleaning: the raw exports become trustworthy tables everything else builds on.

Each @recipe function builds the dataset named like the function, from the datasets named by its
parameters. weir reads this file to draw the Flow; it only runs it when a build needs it.
"""

import pandas as pd
from weir import recipe, var


def real_customers(raw_customers: pd.DataFrame) -> pd.DataFrame:
    # Internal test accounts would inflate every metric: drop them once, here.
    return raw_customers[~raw_customers["is_test"]]


@recipe
def customers(raw_customers: pd.DataFrame) -> pd.DataFrame:
    """Real customers only, with a proper date type for the signup."""
    out = real_customers(raw_customers).drop(columns=["is_test"])
    return out.assign(signup_date=pd.to_datetime(out["signup_date"]).dt.date)


@recipe
def orders_clean(raw_orders: pd.DataFrame, raw_products: pd.DataFrame,
                 customers: pd.DataFrame) -> pd.DataFrame:
    """Completed orders of real customers, priced, without the tiny ones."""
    orders = raw_orders[raw_orders["status"] == "completed"]
    # Price each order line with the catalogue; inner join also drops unknown products.
    orders = orders.merge(raw_products[["product_id", "category", "unit_price"]],
                          on="product_id")
    orders = orders.assign(amount=(orders["quantity"] * orders["unit_price"]).round(2))
    # Tiny orders are mostly tests of the payment flow; the threshold is a project variable,
    # so changing it in weir.yaml rebuilds exactly what depends on it.
    orders = orders[orders["amount"] >= var("min_order_value")]
    # Orders of test accounts go too: keep only customers that survived cleaning.
    orders = orders[orders["customer_id"].isin(customers["customer_id"])]
    return orders.drop(columns=["status"]).reset_index(drop=True)
