-- The final report: one row per month, revenue next to how many customers joined.
WITH new_customers AS (
    SELECT date_trunc('month', first_order)::DATE AS month, count(*) AS new_customers
    FROM customer_stats
    GROUP BY 1
)
SELECT
    r.month,
    r.orders,
    r.revenue,
    r.average_order,
    coalesce(n.new_customers, 0) AS new_customers
FROM revenue_by_month AS r
LEFT JOIN new_customers AS n USING (month)
ORDER BY r.month
