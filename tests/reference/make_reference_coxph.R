# Reference values for churnsurv.CauseSpecificCox: survival::coxph on cause-specific outcomes.
# Run from the repository root:  Rscript tests/reference/make_reference_coxph.R
# Writes tests/reference/fixtures/coxph_cause_specific.csv (17 significant digits).
suppressPackageStartupMessages(library(survival))
m <- read.csv("tests/reference/inputs/maven_telco.csv", stringsAsFactors = FALSE)
m$contract <- factor(m$contract, levels = c("Month-to-Month", "One Year", "Two Year"))
rows <- list()
for (reading in c("naive", "truncated")) {
  for (cause in c("Competitor", "Price", "Dissatisfaction")) {
    m$ev <- as.integer(m$event == 1 & m$cause == cause)
    # coxph(Surv(time, ev) ~ contract + monthly_charge)            (naive)
    # coxph(Surv(entry, time, ev) ~ contract + monthly_charge)     (truncated), ties = "efron" (default)
    ctl <- coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100)  # tight convergence: compare at 1e-8
    fit <- if (reading == "naive") coxph(Surv(time, ev) ~ contract + monthly_charge, data = m, control = ctl)
           else coxph(Surv(entry, time, ev) ~ contract + monthly_charge, data = m, control = ctl)
    s <- summary(fit)$coefficients
    rows[[length(rows) + 1]] <- data.frame(reading = reading, cause = cause,
      term = c("Contract[One Year]", "Contract[Two Year]", "Monthly Charge"),
      coef = format(s[, "coef"], digits = 17), se = format(s[, "se(coef)"], digits = 17),
      loglik = format(fit$loglik[2], digits = 17))
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/fixtures/coxph_cause_specific.csv", row.names = FALSE, quote = TRUE)
