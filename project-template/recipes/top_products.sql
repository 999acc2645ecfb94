-- The best-selling products. $top_n is the project variable top_n, passed to DuckDB as a bound
-- parameter (never pasted into the query), and part of this recipe's fingerprint.
SELECT
    p.product_id,
    p.name,
    p.category,
    sum(o.quantity)          AS units,
    round(sum(o.amount), 2)  AS revenue
FROM orders_clean AS o
JOIN raw_products AS p ON p.product_id = o.product_id
GROUP BY ALL
ORDER BY revenue DESC
LIMIT $top_n
