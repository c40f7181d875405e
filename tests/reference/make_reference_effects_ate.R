# Reference values for churnsurv.effects (adjusted curves): riskRegression::ate.
#
# Run from the repository root:  Rscript tests/reference/make_reference_effects_ate.R
# Writes tests/reference/fixtures/effects_ate_data.csv (the simulated input, seed pinned) and
# tests/reference/fixtures/effects_ate_{survival,competing}.csv (estimates per estimator, arm and time).
# R 4.2, survival, riskRegression 2022.11.28. Continuous times (no ties), so Breslow = Efron.
suppressMessages({library(survival); library(riskRegression); library(data.table)})
out <- "tests/reference/fixtures"

set.seed(20261206)
n <- 400
X1 <- rnorm(n)
X2 <- rbinom(n, 1, 0.5)
A <- rbinom(n, 1, plogis(-0.3 + 0.8 * X1 - 0.5 * X2))
t1 <- rexp(n, 0.10 * exp(0.7 * X1 + 0.4 * X2 - 0.5 * A))
t2 <- rexp(n, 0.05 * exp(-0.3 * X1 + 0.3 * A))
tc <- rexp(n, 0.04 * exp(0.4 * A))
time <- round(pmin(t1, t2, tc), 6) + 1e-6 * seq_len(n) / n  # 6 decimals, distinct
status <- ifelse(tc < pmin(t1, t2), 0, ifelse(t1 < t2, 1, 2))
sim <- data.frame(id = seq_len(n), time = time, status = status, A = A, X1 = round(X1, 6), X2 = X2)
write.csv(sim, file.path(out, "effects_ate_data.csv"), row.names = FALSE)

d <- read.csv(file.path(out, "effects_ate_data.csv"))  # what Python reads
stopifnot(!anyDuplicated(d$time))
d$A <- factor(d$A)
d$ev <- as.numeric(d$status > 0)
times <- c(2, 5, 10, 20)

ps <- glm(A ~ X1 + X2, data = d, family = binomial)
cens <- coxph(Surv(time, status == 0) ~ strata(A), data = d, x = TRUE, y = TRUE)

collect <- function(fit, name) {
  m <- as.data.table(fit$meanRisk)
  data.frame(estimator = name, arm = as.character(m$treatment), time = m$time, risk = m$estimate,
             se = if ("se" %in% names(m)) m$se else NA)
}

# ---- survival (any defection is the event)
cox <- coxph(Surv(time, ev) ~ A + X1 + X2, data = d, x = TRUE, y = TRUE)
res <- list()
res[[1]] <- collect(ate(event = cox, treatment = ps, censor = cens, data = d, times = times,
                        estimator = "GFORMULA", se = FALSE, verbose = FALSE), "gformula")
res[[2]] <- collect(ate(event = cox, treatment = ps, censor = cens, data = d, times = times,
                        estimator = "IPTW", se = FALSE, verbose = FALSE), "ipcw")
res[[3]] <- collect(ate(event = cox, treatment = ps, censor = cens, data = d, times = times,
                        estimator = "AIPTW", se = TRUE, known.nuisance = TRUE, verbose = FALSE), "aipw")
surv <- do.call(rbind, res)
write.csv(surv, file.path(out, "effects_ate_survival.csv"), row.names = FALSE)

# ---- competing causes (cause 1 of 1, 2), cause-specific Cox models
csc <- CSC(Hist(time, status) ~ A + X1 + X2, data = d)
res <- list()
res[[1]] <- collect(ate(event = csc, treatment = ps, censor = cens, data = d, times = times, cause = 1,
                        estimator = "GFORMULA", se = FALSE, verbose = FALSE, product.limit = FALSE), "gformula")
res[[2]] <- collect(ate(event = csc, treatment = ps, censor = cens, data = d, times = times, cause = 1,
                        estimator = "IPTW", se = FALSE, verbose = FALSE, product.limit = FALSE), "ipcw")
res[[3]] <- collect(ate(event = csc, treatment = ps, censor = cens, data = d, times = times, cause = 1,
                        estimator = "AIPTW", se = TRUE, known.nuisance = TRUE, verbose = FALSE,
                        product.limit = FALSE), "aipw")
comp <- do.call(rbind, res)
write.csv(comp, file.path(out, "effects_ate_competing.csv"), row.names = FALSE)
print(surv); print(comp)
