# Reference values for churnsurv.models.discrete_time.DiscreteTimeHazard: binomial GLMs (and a multinomial
# logit) fitted in R on the expanded person-period data of tests/reference/inputs/maven_telco.csv.
# Run from the repository root:  Rscript tests/reference/make_reference_discrete.R
# Needs base R (stats, splines) and VGAM (Debian: r-cran-vgam). Writes tests/reference/fixtures/discrete_*.csv
# deterministically (no randomness, no dates, numbers with 17 significant digits).
#
# Person-period expansion: a customer with entry e and exit x (integer months) is at risk in the periods
# j = e + 1, ..., x; the response is 1 in period x when the customer defected (for cause k: defected for k).
# "naive" ignores entry (e = 0); "truncated" uses the input's entry column (left truncation).
suppressPackageStartupMessages({library(splines); library(VGAM)})
m <- read.csv("tests/reference/inputs/maven_telco.csv", stringsAsFactors = FALSE)
m$contract <- factor(m$contract, levels = c("Month-to-Month", "One Year", "Two Year"))
causes <- sort(unique(m$cause[m$event == 1]))            # Attitude, Competitor, Dissatisfaction, Other, Price
fmt <- function(x) sprintf("%.17g", x)

expand <- function(d, reading) {
  start <- if (reading == "naive") rep(0L, nrow(d)) else as.integer(d$entry)
  len <- as.integer(d$time) - start
  idx <- rep(seq_len(nrow(d)), len)
  period <- start[idx] + sequence(len)
  pp <- data.frame(id = d$id[idx], period = period, contract = d$contract[idx],
                   monthly_charge = d$monthly_charge[idx])
  last <- period == d$time[idx]
  pp$y <- as.integer(last & d$event[idx] == 1)
  pp$cause <- ifelse(pp$y == 1, d$cause[idx], "(stay)")
  pp$renewal <- as.integer(pp$period %% 12 == 0)
  pp
}
KNOTS <- c(6, 12, 24)
cov_terms <- c("contract[One Year]", "contract[Two Year]", "monthly_charge")
rename <- function(nm) {
  nm <- sub("^factor\\(period\\)([0-9]+)$", "period[\\1]", nm)
  nm <- sub("^ns\\(period, knots = KNOTS, Boundary.knots = c\\(1, 72\\)\\)([0-9]+)$", "ns(period)[\\1]", nm)
  nm <- sub("^contract(.*)$", "contract[\\1]", nm)
  nm
}
ctl <- glm.control(epsilon = 1e-15, maxit = 100)
coef_rows <- list(); fit_rows <- list(); pred_rows <- list()
profiles <- data.frame(profile = c("m2m_70", "two_year_20"),
                       contract = factor(c("Month-to-Month", "Two Year"), levels = levels(m$contract)),
                       monthly_charge = c(70, 20))
cases <- list(
  list(case = "period_cloglog_naive", reading = "naive", link = "cloglog", base = "period", cause = NA),
  list(case = "period_logit_naive", reading = "naive", link = "logit", base = "period", cause = NA),
  list(case = "period_cloglog_truncated", reading = "truncated", link = "cloglog", base = "period", cause = NA),
  list(case = "period_logit_truncated", reading = "truncated", link = "logit", base = "period", cause = NA),
  list(case = "spline_cloglog_naive", reading = "naive", link = "cloglog", base = "spline", cause = NA),
  list(case = "spline_logit_truncated", reading = "truncated", link = "logit", base = "spline", cause = NA),
  list(case = "constant_cloglog_truncated", reading = "truncated", link = "cloglog", base = "constant", cause = NA),
  list(case = "spline_cloglog_naive_competitor", reading = "naive", link = "cloglog", base = "spline",
       cause = "Competitor")
)
pp_cache <- list(naive = expand(m, "naive"), truncated = expand(m, "truncated"))
for (cs in cases) {
  pp <- pp_cache[[cs$reading]]
  if (!is.na(cs$cause)) pp$y <- as.integer(pp$cause == cs$cause)
  f <- switch(cs$base,
    period = y ~ 0 + factor(period) + contract + monthly_charge,
    spline = y ~ ns(period, knots = KNOTS, Boundary.knots = c(1, 72)) + renewal + contract + monthly_charge,
    constant = y ~ contract + monthly_charge)
  fit <- glm(f, family = binomial(link = cs$link), data = pp, control = ctl)
  # glm stops on the relative change of the deviance, which is quadratic in the coefficients' error: with the
  # cloglog link (Fisher scoring converges linearly) that leaves the coefficients about 1e-8 short. Restart
  # from the estimate until the coefficients stop moving, so the fixture is the maximum to ~1e-13.
  for (polish in 1:50) {
    old <- coef(fit)
    fit <- glm(f, family = binomial(link = cs$link), data = pp, control = ctl, start = old)
    if (max(abs(coef(fit) - old) / (abs(old) + 1e-3)) < 1e-13) break
  }
  s <- summary(fit)$coefficients
  coef_rows[[length(coef_rows) + 1]] <- data.frame(case = cs$case, term = rename(rownames(s)),
    coef = fmt(s[, 1]), std_error = fmt(s[, 2]))
  fit_rows[[length(fit_rows) + 1]] <- data.frame(case = cs$case, n_person_periods = nrow(pp),
    n_events = sum(pp$y), n_params = length(coef(fit)), loglik = fmt(as.numeric(logLik(fit))),
    deviance = fmt(deviance(fit)), aic = fmt(AIC(fit)), bic = fmt(BIC(fit)), polish = polish,
    converged = fit$converged)
  if (cs$case %in% c("period_cloglog_naive", "spline_cloglog_naive", "period_logit_truncated",
                     "spline_logit_truncated")) {
    periods <- if (cs$base == "period") c(1, 2, 6, 12, 24, 72) else c(1, 2, 6, 12, 24, 72, 80, 96)
    nd <- merge(profiles, data.frame(period = periods), by = NULL)
    nd$renewal <- as.integer(nd$period %% 12 == 0)
    nd <- nd[order(nd$profile, nd$period), ]
    p <- predict(fit, newdata = nd, type = "link", se.fit = TRUE)
    pred_rows[[length(pred_rows) + 1]] <- data.frame(case = cs$case, profile = nd$profile, period = nd$period,
      eta = fmt(p$fit), se_eta = fmt(p$se.fit), hazard = fmt(fit$family$linkinv(p$fit)))
  }
}

# Multinomial logit over {stay, cause 1..5} on the naive person-period data: VGAM::vglm (Fisher scoring)
pp <- pp_cache$naive
pp$outcome <- factor(pp$cause, levels = c("(stay)", causes))
mfit <- vglm(outcome ~ ns(period, knots = KNOTS, Boundary.knots = c(1, 72)) + contract + monthly_charge,
             family = multinomial(refLevel = 1), data = pp,
             control = vglm.control(epsilon = 1e-15, maxit = 100, criterion = "coefficients"))
cm <- coef(mfit, matrix = TRUE)                       # rows: terms, columns: log(mu[,k]/mu[,1])
se <- sqrt(diag(vcov(mfit)))
K <- length(causes)
for (k in seq_len(K)) {
  idx <- seq(k, length(se), by = K)                   # vglm orders coefficients term-major, cause-minor
  coef_rows[[length(coef_rows) + 1]] <- data.frame(case = paste0("multinomial_naive:", causes[k]),
    term = rename(rownames(cm)), coef = fmt(cm[, k]), std_error = fmt(se[idx]))
  stopifnot(max(abs(coef(mfit)[idx] - cm[, k])) == 0)
}
fit_rows[[length(fit_rows) + 1]] <- data.frame(case = "multinomial_naive", n_person_periods = nrow(pp),
  n_events = sum(pp$y), n_params = length(coef(mfit)), loglik = fmt(as.numeric(logLik(mfit))),
  deviance = fmt(deviance(mfit)), aic = fmt(AIC(mfit)), bic = fmt(BIC(mfit)), polish = 0, converged = TRUE)

write.csv(do.call(rbind, coef_rows), "tests/reference/fixtures/discrete_coef.csv", row.names = FALSE)
write.csv(do.call(rbind, fit_rows), "tests/reference/fixtures/discrete_fit.csv", row.names = FALSE)
write.csv(do.call(rbind, pred_rows), "tests/reference/fixtures/discrete_predict.csv", row.names = FALSE)
# The natural-spline basis itself: splines::ns(x, knots = KNOTS, Boundary.knots = c(1, 72)), inside and outside
x <- c(-2, 0, 1, 1.5, 2, 6, 11.5, 12, 30, 71, 72, 80, 120)
b <- unclass(ns(x, knots = KNOTS, Boundary.knots = c(1, 72)))[, ]
write.csv(data.frame(x = x, col = rep(seq_len(ncol(b)), each = length(x)), value = fmt(as.vector(b))),
          "tests/reference/fixtures/discrete_ns_basis.csv", row.names = FALSE)
