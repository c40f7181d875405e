# Reference values for churnsurv.logrank_test(..., cause=k): the cause-specific log-rank test (defections of cause
# k are events, other defections censored), R survival::survdiff on the naive reading of the Maven file.
# Run from the repository root: Rscript tests/reference/make_reference_cause_logrank.R
suppressPackageStartupMessages(library(survival))
inp <- read.csv("tests/reference/inputs/maven_telco.csv", stringsAsFactors = FALSE)
rows <- list()
for (k in c("Competitor", "Price", "Dissatisfaction")) {
  ev <- as.integer(inp$event == 1 & !is.na(inp$cause) & inp$cause == k)
  for (rho in c(0, 1)) {
    sd <- survdiff(Surv(inp$time, ev) ~ inp$contract, rho = rho)
    rows[[length(rows) + 1]] <- data.frame(cause = k, rho = rho, statistic = sd$chisq, dof = length(sd$n) - 1,
                                           observed = paste(sd$obs, collapse = ";"),
                                           expected = paste(sprintf("%.17g", sd$exp), collapse = ";"))
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/fixtures/logrank_cause_specific.csv", row.names = FALSE)
cat("wrote logrank_cause_specific.csv\n")
