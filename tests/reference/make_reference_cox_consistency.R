# Reference values for churnsurv.CauseSpecificCox with case weights: survival::coxph, robust variance.
# Run from the repository root:  Rscript tests/reference/make_reference_cox_consistency.R
# Writes tests/reference/fixtures/cox_consistency_weighted.csv (17 significant digits). No randomness: the case
# weights are a fixed function of the row number, w = 0.5 + (row %% 4) / 2 (0.5, 1, 1.5, 2, 0.5, ...).
suppressPackageStartupMessages(library(survival))
m <- read.csv("tests/reference/inputs/maven_telco.csv", stringsAsFactors = FALSE)
m$contract <- factor(m$contract, levels = c("Month-to-Month", "One Year", "Two Year"))
m$w <- 0.5 + (seq_len(nrow(m)) %% 4) / 2
m$row <- seq_len(nrow(m))  # each row its own cluster (R asks for one with (entry, exit] data)
rows <- list()
for (reading in c("naive", "truncated")) {
  for (cause in c("Competitor", "Price")) {
    m$ev <- as.integer(m$event == 1 & m$cause == cause)
    # coxph(Surv([entry,] time, ev) ~ contract + monthly_charge, weights = w, cluster = row), Efron ties
    ctl <- coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100)
    fit <- if (reading == "naive") {
      coxph(Surv(time, ev) ~ contract + monthly_charge, data = m, weights = w, cluster = row, control = ctl)
    } else {
      coxph(Surv(entry, time, ev) ~ contract + monthly_charge, data = m, weights = w, cluster = row,
            control = ctl)
    }
    rows[[length(rows) + 1]] <- data.frame(reading = reading, cause = cause,
      term = c("Contract[One Year]", "Contract[Two Year]", "Monthly Charge"),
      coef = format(coef(fit), digits = 17), robust_se = format(sqrt(diag(vcov(fit))), digits = 17),
      naive_se = format(sqrt(diag(fit$naive.var)), digits = 17), loglik = format(fit$loglik[2], digits = 17))
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/fixtures/cox_consistency_weighted.csv", row.names = FALSE, quote = TRUE)
