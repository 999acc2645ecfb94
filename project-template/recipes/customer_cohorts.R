# Customer cohorts: for each month, how many customers placed their first order then and what
# they have spent on average since.
#
# An R recipe: the function is named after its output (the file's name), its arguments are its
# inputs (data frames: here the pyarrow recipe's customer_stats), and it returns a data frame.
# Base R only; weir runs it with Rscript. Comments and layout do not count as changes.
customer_cohorts <- function(customer_stats) {
  cohort <- format(customer_stats$first_order, "%Y-%m")
  joined <- table(cohort)
  spent <- tapply(customer_stats$revenue, cohort, mean)
  data.frame(
    month = as.Date(paste0(names(joined), "-01")),
    new_customers = as.integer(joined),
    revenue_per_customer = round(as.numeric(spent[names(joined)]), 2)
  )
}
