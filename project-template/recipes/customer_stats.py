"""Per-customer statistics, written with pyarrow instead of pandas.

The parameter's annotation chooses how weir hands the input over: pa.Table here (no pandas
conversion), pandas.DataFrame by default, polars.DataFrame or a DuckDB relation also work.
"""

import pyarrow as pa
import pyarrow.compute as pc
from weir import recipe


@recipe
def customer_stats(orders_clean: pa.Table) -> pa.Table:
    """Orders, revenue and first/last order per customer."""
    stats = orders_clean.group_by("customer_id").aggregate([
        ("order_id", "count"),
        ("amount", "sum"),
        ("ordered_at", "min"),
        ("ordered_at", "max"),
    ])
    stats = stats.rename_columns(["customer_id", "orders", "revenue", "first_order",
                                  "last_order"])
    # Sum of floats: round for a clean report.
    return stats.set_column(2, "revenue", pc.round(stats["revenue"], 2)).sort_by("customer_id")
