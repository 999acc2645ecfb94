-- The final report: one row per month, revenue next to how many customers joined
-- (customer_cohorts, an R recipe).
SELECT
    r.month,
    r.orders,
    r.revenue,
    r.average_order,
    coalesce(c.new_customers, 0) AS new_customers
FROM revenue_by_month AS r
LEFT JOIN customer_cohorts AS c USING (month)
ORDER BY r.month
