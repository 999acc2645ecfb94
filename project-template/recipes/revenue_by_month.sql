-- Revenue and order count per calendar month.
-- A SQL recipe builds the dataset named like its file; the tables it reads are its inputs.
-- It runs in DuckDB over the input datasets.
SELECT
    date_trunc('month', ordered_at)::DATE AS month,
    count(*)                              AS orders,
    round(sum(amount), 2)                 AS revenue,
    round(avg(amount), 2)                 AS average_order
FROM orders_clean
GROUP BY 1
ORDER BY 1
