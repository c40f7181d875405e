# Reference fits of the shifted-beta-geometric (sBG) and beta-discrete-Weibull (BdW) cohort models.
#
# Run from the repository root:  Rscript tests/reference/make_reference_beta_geometric.R
#
# Writes
#   inputs/beta_geometric_fader_hardie.csv  the survivor counts of Fader & Hardie (2007), Table 1 (years 0-12)
#   inputs/beta_geometric_sim.csv           seeded individual tenures: two plans, left truncation, censoring
#   fixtures/beta_geometric_fit.csv         estimates, standard errors, log-likelihood per (case, model)
#   fixtures/beta_geometric_curve.csv       S(t), t = 0..12, and DERL (d = 0.1, renewals 0, 1, 5) per fit
#
# The likelihood is written here independently of churnsurv: each record contributes
# log(S(lower) - S(upper)) - log S(entry) (upper = NA: right-censored, log S(lower) - log S(entry)), with
# S(t) = B(alpha, beta + t^c) / B(alpha, beta) (c = 1: sBG). It is maximised over the log-parameters with
# optim(BFGS), polished by Newton steps on numDeriv's Hessian; standard errors from numDeriv::hessian at the
# optimum (delta method to the natural scale). DERL is a brute-force discounted sum (2000 terms).
# Deterministic: no dates, RNGkind and seed pinned.

suppressPackageStartupMessages(library(numDeriv))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20261206)
dir_in <- "tests/reference/inputs"
dir_out <- "tests/reference/fixtures"

fmt <- function(df) {
  for (j in seq_along(df)) if (is.double(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  df
}
write_csv <- function(df, path) write.csv(fmt(df), path, row.names = FALSE, quote = FALSE)

# ------------------------------------------------------------------ data
fh <- data.frame(
  year = 0:12,
  regular = c(1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173),
  high_end = c(1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394)
)
write_csv(fh, file.path(dir_in, "beta_geometric_fader_hardie.csv"))

simulate_plan <- function(n, alpha, beta, plan) {
  out <- NULL
  while (is.null(out) || nrow(out) < n) {
    theta <- rbeta(4 * n, alpha, beta)
    t_loss <- rgeom(4 * n, theta) + 1            # renewal at which the customer is lost (1, 2, ...)
    entry <- ifelse(runif(4 * n) < 0.4, sample(1:4, 4 * n, replace = TRUE), 0)
    keep <- t_loss > entry                        # left truncation: only customers still active at entry
    follow <- sample(1:8, 4 * n, replace = TRUE)
    d <- data.frame(plan = plan, entry = entry, t = t_loss, stop = entry + follow)[keep, ]
    out <- rbind(out, d)
  }
  out <- out[seq_len(n), ]
  data.frame(plan = out$plan, entry = out$entry, exit = pmin(out$t, out$stop),
             event = as.integer(out$t <= out$stop))
}
sim <- rbind(simulate_plan(1500, 0.8, 2.5, "A"), simulate_plan(1500, 1.5, 6, "B"))
sim <- data.frame(id = seq_len(nrow(sim)), sim)
write_csv(sim, file.path(dir_in, "beta_geometric_sim.csv"))

# ------------------------------------------------------------------ likelihood
log_surv <- function(p, t) {
  cc <- if (length(p) == 3) exp(p[3]) else 1
  lbeta(exp(p[1]), exp(p[2]) + t^cc) - lbeta(exp(p[1]), exp(p[2]))
}
loglik <- function(p, rec) {
  le <- log_surv(p, rec$entry)
  lu <- log_surv(p, rec$lower)
  ll <- lu - le
  i <- !is.na(rec$upper)
  lv <- log_surv(p, rec$upper[i])
  ll[i] <- ll[i] + log(-expm1(lv - lu[i]))
  sum(rec$weight * ll)
}
counts_records <- function(n) {
  k <- length(n) - 1
  data.frame(entry = 0, lower = c(0:(k - 1), k), upper = c(1:k, NA), weight = c(-diff(n), n[k + 1]))
}
tenure_records <- function(d) {
  data.frame(entry = d$entry, lower = ifelse(d$event == 1, d$exit - 1, d$exit),
             upper = ifelse(d$event == 1, d$exit, NA), weight = 1)
}
fit_model <- function(rec, k) {
  f <- function(p) -loglik(p, rec)
  start <- rep(0, k)
  if (k == 3) start <- c(fit_model(rec, 2)$par, 0)
  o <- optim(start, f, method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
  p <- o$par
  for (i in 1:20) {  # Newton polish
    g <- numDeriv::grad(f, p)
    h <- numDeriv::hessian(f, p)
    step <- solve(h, g)
    if (f(p - step) > f(p)) break
    p <- p - step
    if (max(abs(step)) < 1e-12) break
  }
  h <- numDeriv::hessian(f, p)
  list(par = p, cov = solve(h), loglik = -f(p), n = sum(rec$weight))
}
derl <- function(p, n, d) {
  k <- 0:1999
  sum(exp(log_surv(p, n + 1 + k) - log_surv(p, n)) / (1 + d)^k)
}

cases <- list(
  fh_regular = counts_records(fh$regular[1:8]),
  fh_high_end = counts_records(fh$high_end[1:8]),
  sim_all = tenure_records(sim),
  sim_A = tenure_records(sim[sim$plan == "A", ]),
  sim_B = tenure_records(sim[sim$plan == "B", ])
)
fit_rows <- list()
curve_rows <- list()
for (case in names(cases)) {
  for (model in c("sbg", "bdw")) {
    k <- if (model == "sbg") 2 else 3
    fit <- fit_model(cases[[case]], k)
    names_p <- c("alpha", "beta", "c")[1:k]
    se_log <- sqrt(diag(fit$cov))
    fit_rows[[length(fit_rows) + 1]] <- data.frame(
      case = case, model = model, parameter = names_p, estimate = exp(fit$par),
      std_error = exp(fit$par) * se_log, log_likelihood = fit$loglik, n_obs = fit$n)
    t <- 0:12
    curve_rows[[length(curve_rows) + 1]] <- data.frame(
      case = case, model = model, kind = "survival", time = t, value = exp(log_surv(fit$par, t)))
    curve_rows[[length(curve_rows) + 1]] <- data.frame(
      case = case, model = model, kind = "derl_0.1", time = c(0, 1, 5),
      value = sapply(c(0, 1, 5), function(n) derl(fit$par, n, 0.1)))
  }
}
write_csv(do.call(rbind, fit_rows), file.path(dir_out, "beta_geometric_fit.csv"))
write_csv(do.call(rbind, curve_rows), file.path(dir_out, "beta_geometric_curve.csv"))
cat("R:", R.version.string, " numDeriv:", as.character(packageVersion("numDeriv")), "\n")
