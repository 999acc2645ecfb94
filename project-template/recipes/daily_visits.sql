-- Run once per day: web_visits holds only that day's rows, and $partition is the day.
SELECT CAST($partition AS DATE) AS visit_date,
       page,
       count(*) AS visits,
       count(DISTINCT visitor_id) AS visitors,
       avg(seconds) AS avg_seconds
FROM web_visits
GROUP BY page
ORDER BY visits DESC
