# Reference values for churnsurv.models.absolute_risk.cause_specific_risk: absolute risk by cause from
# cause-specific Cox models, riskRegression::CSC + predict(..., se = TRUE) (product.limit = TRUE, the default;
# intervals on the log-log scale, confint.predictCSC's default absRisk.transform = "loglog").
# Run from the repository root:  Rscript tests/reference/make_reference_csc_risk.R
# Reads tests/reference/inputs/{maven_telco,sim_continuous}.csv; writes tests/reference/fixtures/csc_risk_*.csv
# (17 significant digits, no dates, deterministic: no random numbers are drawn).
#
#  csc_risk_predict.csv    CSC(Hist(time, status) ~ covariates) then predict(fit, newdata, times, cause, se = TRUE)
#                          for each cause, and predict(..., type = "survival", se = TRUE) (state "(survival)").
#                          dataset maven: causes Competitor / Other (every other reason), contract + monthly_charge;
#                          dataset sim: causes 1 / 2 / 3, x1 + x2 (continuous times, no ties).
#  csc_risk_truncated.csv  left truncation (maven, entry = snapshot entry): riskRegression::CSC rejects
#                          Hist(time, status, entry = entry), so the point estimates come from survival::coxph +
#                          survfit.coxph per cause combined by the product limit (see the section below); the script
#                          checks that this route reproduces CSC's point estimates on the naive data to 1e-8.
suppressPackageStartupMessages({library(survival); library(riskRegression); library(prodlim)})
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

m <- read.csv("tests/reference/inputs/maven_telco.csv", stringsAsFactors = FALSE)
m$contract <- factor(m$contract, levels = c("Month-to-Month", "One Year", "Two Year"))
m$status <- ifelse(m$event == 1, ifelse(m$cause == "Competitor", 1, 2), 0)
maven_profiles <- data.frame(profile = 0:2,
  contract = factor(c("Month-to-Month", "One Year", "Two Year"), levels = levels(m$contract)),
  monthly_charge = c(70, 70, 20))
maven_times <- c(0.5, 1, 6, 12, 24, 36, 48, 60, 71.5, 72, 80)

s <- read.csv("tests/reference/inputs/sim_continuous.csv")
s$status <- ifelse(s$event == 1, s$cause, 0)
sim_profiles <- data.frame(profile = 0:2, x1 = c(0, 1, -0.5), x2 = c(0, 1, 0))
sim_times <- c(1, 5, 10, 20, 30, 50, 80, 1000)

one <- function(dataset, fit, profiles, times, cause_labels) {
  rows <- list()
  for (k in seq_along(cause_labels)) {
    p <- predict(fit, newdata = profiles, times = times, cause = k, se = TRUE, product.limit = TRUE)
    for (i in seq_len(nrow(profiles))) {
      rows[[length(rows) + 1]] <- data.frame(dataset = dataset, profile = profiles$profile[i], cause = cause_labels[k],
        time = times, estimate = fmt(p$absRisk[i, ]), std_error = fmt(p$absRisk.se[i, ]),
        ci_lower = fmt(p$absRisk.lower[i, ]), ci_upper = fmt(p$absRisk.upper[i, ]))
    }
  }
  p <- predict(fit, newdata = profiles, times = times, type = "survival", se = TRUE, product.limit = TRUE)
  for (i in seq_len(nrow(profiles))) {
    rows[[length(rows) + 1]] <- data.frame(dataset = dataset, profile = profiles$profile[i], cause = "(survival)",
      time = times, estimate = fmt(p$survival[i, ]), std_error = fmt(p$survival.se[i, ]),
      ci_lower = fmt(p$survival.lower[i, ]), ci_upper = fmt(p$survival.upper[i, ]))
  }
  do.call(rbind, rows)
}

fit_m <- CSC(Hist(time, status) ~ contract + monthly_charge, data = m)
fit_s <- CSC(Hist(time, status) ~ x1 + x2, data = s)
stopifnot(all(sapply(fit_m$models, function(f) f$method) == "efron"))
out <- rbind(one("maven", fit_m, maven_profiles, maven_times, c("Competitor", "Other")),
             one("sim", fit_s, sim_profiles, sim_times, c("1", "2", "3")))
write.csv(out, "tests/reference/fixtures/csc_risk_predict.csv", row.names = FALSE, quote = TRUE)

# ---- left truncation: survival::coxph(Surv(entry, time, ev_k) ~ ...) per cause (Efron ties, risk set
# entry < t <= time), cumulative hazards of each profile from survfit.coxph(fit, newdata) (Efron increments),
# combined by the product limit: CIF_k(t) = sum_{s <= t} S(s-) dLambda_k(s), S(s) = prod_{u <= s} (1 - sum_k dLambda_k(u)).
# The same route reproduces riskRegression's CSC predictions on the naive data (checked below, to 1e-8:
# CSC's own coxph fits use the default convergence eps = 1e-9).
surv_route <- function(entry) {
  grid <- sort(unique(m$time[m$status != 0]))
  dl <- list()
  for (k in 1:2) {
    m$ev <- as.integer(m$status == k)
    ctl <- coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100)  # tight convergence: compare at 1e-8
    fit <- if (entry) coxph(Surv(entry, time, ev) ~ contract + monthly_charge, data = m, control = ctl)
           else coxph(Surv(time, ev) ~ contract + monthly_charge, data = m, control = ctl)
    sf <- survfit(fit, newdata = maven_profiles[, c("contract", "monthly_charge")], se.fit = FALSE)
    idx <- findInterval(grid, sf$time)
    ch <- rbind(0, sf$cumhaz)[idx + 1, , drop = FALSE]  # cumulative hazard at each grid time (profiles in columns)
    dl[[k]] <- ch - rbind(0, ch[-nrow(ch), , drop = FALSE])
  }
  tot <- dl[[1]] + dl[[2]]
  S <- apply(1 - tot, 2, cumprod)
  Sminus <- rbind(1, S[-nrow(S), , drop = FALSE])
  at <- function(M, t, before) rbind(before, M)[findInterval(t, grid) + 1, , drop = FALSE]
  tt <- maven_times[maven_times <= 72]
  list(times = tt, surv = at(S, tt, 1), cif = lapply(1:2, function(k) at(apply(Sminus * dl[[k]], 2, cumsum), tt, 0)))
}
naive <- surv_route(FALSE)
tt <- naive$times
for (k in 1:2) {
  pr <- predict(fit_m, newdata = maven_profiles, times = tt, cause = k)
  stopifnot(max(abs(t(naive$cif[[k]]) - pr$absRisk)) < 1e-8)
}
tr <- surv_route(TRUE)
rows <- list()
for (i in seq_len(nrow(maven_profiles))) {
  rows[[length(rows) + 1]] <- data.frame(dataset = "maven_truncated", profile = maven_profiles$profile[i],
    cause = c(rep("Competitor", length(tt)), rep("Other", length(tt)), rep("(survival)", length(tt))),
    time = rep(tt, 3), estimate = fmt(c(tr$cif[[1]][, i], tr$cif[[2]][, i], tr$surv[, i])))
}
write.csv(do.call(rbind, rows), "tests/reference/fixtures/csc_risk_truncated.csv", row.names = FALSE, quote = TRUE)
