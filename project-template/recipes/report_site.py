"""A small HTML report with a bar chart, written into a managed folder.

Listing `report_site` in `outputs` and taking it as a parameter annotated weir.Folder gives
the recipe an empty folder to fill; weir swaps it in whole when the recipe succeeds.
"""

import html

import pandas as pd
import weir
from weir import recipe


def bar_chart(months: list[str], values: list[float], width: int = 720, height: int = 240) -> str:
    """An SVG bar chart: no plotting library needed."""
    top = max(values) or 1.0
    bar = width / max(len(values), 1)
    bars = "".join(
        f'<rect x="{i * bar + 2:.1f}" y="{height - v / top * (height - 20):.1f}" '
        f'width="{bar - 4:.1f}" height="{v / top * (height - 20):.1f}" fill="#4b7bec">'
        f"<title>{html.escape(m)}: {v:,.0f}</title></rect>"
        for i, (m, v) in enumerate(zip(months, values)))
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{bars}</svg>'


@recipe(outputs=["report_site"])
def build_report_site(monthly_report: pd.DataFrame, top_products: pd.DataFrame,
                      report_site: weir.Folder) -> None:
    """index.html (the report) and revenue.svg (the chart), ready to publish."""
    months = [str(m)[:7] for m in monthly_report["month"]]
    chart = bar_chart(months, monthly_report["revenue"].tolist())
    report_site.write_bytes("revenue.svg", chart.encode())
    page = f"""<!doctype html><meta charset="utf-8"><title>Shop report</title>
<h1>Monthly revenue</h1>{chart}
<h2>Top products</h2>{top_products.to_html(index=False)}
<h2>By month</h2>{monthly_report.to_html(index=False)}"""
    report_site.write_bytes("index.html", page.encode())
