#!/usr/bin/env Rscript
# R reference fixtures for churnsurv.
#
# Run from the repository root (after tests/reference/make_inputs.R):
#     Rscript tests/reference/make_reference.R
#
# Reads  tests/reference/inputs/*.csv
# Writes tests/reference/fixtures/*.csv  and fixtures/VERSIONS.txt
#
# Every number is written with 17 significant digits ("%.17g"), so it round-trips to the
# exact IEEE double R computed. NA/NaN are written as empty fields, +Inf as "inf".
# Column names are R's names in snake_case (n.risk -> n_risk, std.err -> std_err, ...).
#
# Each fixture below is preceded by a comment block naming the exact R call(s) behind it.
# The fixtures are keyed by `dataset` (which input, and naive vs truncated use of it) and `by`
# (the right-hand side of the formula: "1" for ~ 1); `group` is the level of `by` ("(all)" for
# ~ 1) and `strata` is R's own stratum label (e.g. "contract=One year"; "(all)" for ~ 1).
# Label columns are never empty; an empty field is always a numeric NA.
#
# Datasets (all read from tests/reference/inputs/):
#   ibm              ibm_telco.csv       Surv(time, event)
#   maven_naive      maven_telco.csv     Surv(time, event)          (ignores entry)
#   maven_truncated  maven_telco.csv     Surv(entry, time, event)   (left truncated at entry)
#   sim_truncated    sim_truncated.csv   Surv(entry, time, event)
#   sim_continuous   sim_continuous.csv  Surv(time, event)          (entry is 0 throughout)

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
stopifnot(packageVersion("survival") >= "3.5.0")

in_dir <- file.path("tests", "reference", "inputs")
out_dir <- file.path("tests", "reference", "fixtures")
if (!dir.exists(in_dir)) {
  stop("run from the repository root, after Rscript tests/reference/make_inputs.R")
}
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
fmt_col <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.logical(x)) x <- as.integer(x)
  if (is.numeric(x)) {
    out <- sprintf("%.17g", as.numeric(x))
    out[is.na(x)] <- ""
    out[!is.na(x) & x == Inf] <- "inf"
    out[!is.na(x) & x == -Inf] <- "-inf"
    return(out)
  }
  x <- as.character(x)
  if (any(grepl("[,\"\n]", x[!is.na(x)]))) {
    bad <- !is.na(x) & grepl("[,\"\n]", x)
    x[bad] <- paste0("\"", gsub("\"", "\"\"", x[bad]), "\"")
  }
  x[is.na(x)] <- ""
  x
}

written <- list()
# Label columns are never empty in the files (an empty field always means a numeric NA):
# the whole-sample fit (~ 1) has by = "1" and group = strata = "(all)"; "no strata" is "(none)".
label_sentinel <- c(by = "1", group = "(all)", strata = "(all)", strata_var = "(none)")

write_fixture <- function(df, name) {
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  rownames(df) <- NULL
  for (col in intersect(names(label_sentinel), names(df))) {
    x <- as.character(df[[col]])
    x[is.na(x) | x == ""] <- label_sentinel[[col]]
    df[[col]] <- x
  }
  out <- as.data.frame(lapply(df, fmt_col), stringsAsFactors = FALSE, optional = TRUE)
  names(out) <- names(df)
  path <- file.path(out_dir, name)
  con <- file(path, open = "wb")  # "\n" line endings on every platform
  writeLines(paste(names(out), collapse = ","), con)
  if (nrow(out) > 0) writeLines(do.call(paste, c(unname(as.list(out)), sep = ",")), con)
  close(con)
  written[[name]] <<- c(nrow(df), ncol(df))
  cat(sprintf("wrote %-34s %6d rows x %2d cols\n", name, nrow(df), ncol(df)))
  invisible(path)
}

# R's stratum label "contract=One year" -> the level "One year"
strata_level <- function(lbl) ifelse(lbl == "", "", sub("^[^=]*=", "", lbl))

fit_strata <- function(fit) {
  if (is.null(fit$strata)) rep("", length(fit$time)) else rep(names(fit$strata), fit$strata)
}

stopif_diff <- function(a, b, what, tol = 1e-10) {
  ok <- isTRUE(all.equal(as.numeric(a), as.numeric(b), tolerance = tol, check.attributes = FALSE))
  if (!ok) stop("cross-check failed: ", what, ": ", all.equal(as.numeric(a), as.numeric(b), tolerance = tol))
  invisible(TRUE)
}

# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------
ibm <- read.csv(file.path(in_dir, "ibm_telco.csv"), stringsAsFactors = FALSE)
maven <- read.csv(file.path(in_dir, "maven_telco.csv"), stringsAsFactors = FALSE, na.strings = "")
sim_tr <- read.csv(file.path(in_dir, "sim_truncated.csv"), stringsAsFactors = FALSE)
sim_co <- read.csv(file.path(in_dir, "sim_continuous.csv"), stringsAsFactors = FALSE)

# Factor levels are alphabetical, which is also the natural order used by the trend test:
#   ibm contract:   Month-to-month < One year < Two year
#   maven contract: Month-to-Month < One Year < Two Year
#   sim group:      A < B < C
ibm$contract <- factor(ibm$contract)
ibm$internet_service <- factor(ibm$internet_service)
maven$contract <- factor(maven$contract)
maven$internet_service <- factor(maven$internet_service)
sim_tr$group <- factor(sim_tr$group)
sim_co$group <- factor(sim_co$group)

# Competing-risk status factors: the FIRST level is the censoring code, as survfit requires.
maven_causes <- c("Attitude", "Competitor", "Dissatisfaction", "Other", "Price")
maven$cause_f <- factor(ifelse(maven$event == 1, maven$cause, "censored"),
                        levels = c("censored", maven_causes))
maven$fstatus <- ifelse(maven$event == 1, maven$cause, "censored")  # for cmprsk (cencode = "censored")
sim_tr$cause_f <- factor(sim_tr$cause, levels = 0:3)
sim_co$cause_f <- factor(sim_co$cause, levels = 0:3)

datasets <- list(
  ibm             = list(data = ibm,    trunc = FALSE, by = "contract"),
  maven_naive     = list(data = maven,  trunc = FALSE, by = "contract"),
  maven_truncated = list(data = maven,  trunc = TRUE,  by = "contract"),
  sim_truncated   = list(data = sim_tr, trunc = TRUE,  by = "group"),
  sim_continuous  = list(data = sim_co, trunc = FALSE, by = "group")
)

surv_formula <- function(trunc, rhs, status = "event") {
  lhs <- if (trunc) sprintf("Surv(entry, time, %s)", status) else sprintf("Surv(time, %s)", status)
  as.formula(paste(lhs, "~", rhs))
}

# ==============================================================================================
# (a) Kaplan-Meier curves: km_curves.csv
#
#   fit_log    <- survfit(Surv(time, event) ~ 1,        data, conf.type = "log",     conf.int = 0.95)
#   fit_loglog <- survfit(Surv(time, event) ~ 1,        data, conf.type = "log-log", conf.int = 0.95)
#   fit_plain  <- survfit(Surv(time, event) ~ 1,        data, conf.type = "plain",   conf.int = 0.95)
#   ... and the same with "~ contract" (ibm, maven_*) or "~ group" (sim_*), and with
#   Surv(entry, time, event) for maven_truncated and sim_truncated.
#   Defaults: stype = 1 (Kaplan-Meier product), ctype = 1 (Nelson-Aalen cumhaz), Greenwood SE.
#
# One row per (dataset, by, group, time) of the fit output:
#   n_risk, n_event, n_censor = fit$n.risk, fit$n.event, fit$n.censor
#   surv        = fit$surv
#   std_err     = fit$std.err            SE of -log S (Greenwood: sqrt(cumsum(d / (n (n - d)))))
#   se_surv     = fit$surv * fit$std.err SE of S itself (what summary(fit)$std.err reports)
#   cumhaz      = fit$cumhaz             Nelson-Aalen: cumsum(d / n)
#   std_chaz    = fit$std.chaz           sqrt(cumsum(d / n^2))
#   lower_*/upper_* = fit$lower / fit$upper of the three fits (log, log_log, plain)
# survival 3.5-3 returns no n.enter for (start, stop] data, and its output times are the
# distinct exit (stop) times only: an entry time that is not also some row's exit time gives
# no row. See km_risk_table.csv for a table that has the entry times too.
# ==============================================================================================
km_fits <- list()
km_rows <- list()
for (ds in names(datasets)) {
  spec <- datasets[[ds]]
  for (rhs in c("1", spec$by)) {
    fml <- surv_formula(spec$trunc, rhs)
    f_log <- survfit(fml, data = spec$data, conf.type = "log", conf.int = 0.95)
    f_ll <- survfit(fml, data = spec$data, conf.type = "log-log", conf.int = 0.95)
    f_pl <- survfit(fml, data = spec$data, conf.type = "plain", conf.int = 0.95)
    by <- if (rhs == "1") "" else rhs
    km_fits[[paste(ds, by)]] <- f_log
    st <- fit_strata(f_log)
    # internal cross-checks of the documented definitions
    stopifnot(is.null(f_log$n.enter), isTRUE(f_log$logse))
    stopif_diff(f_ll$surv, f_log$surv, "same surv across conf.type")
    for (lv in unique(st)) {
      w <- st == lv
      n <- f_log$n.risk[w]; d <- f_log$n.event[w]
      stopif_diff(f_log$cumhaz[w], cumsum(d / n), paste(ds, lv, "cumhaz = Nelson-Aalen"))
      stopif_diff(f_log$std.chaz[w], sqrt(cumsum(d / n^2)), paste(ds, lv, "std.chaz"))
      stopif_diff(f_log$surv[w], cumprod(1 - d / n), paste(ds, lv, "surv = KM"))
      gw <- cumsum(ifelse(n > d, d / (n * (n - d)), NA))
      ok <- is.finite(gw)
      stopif_diff(f_log$std.err[w][ok], sqrt(gw[ok]), paste(ds, lv, "std.err = Greenwood on log scale"))
    }
    km_rows[[length(km_rows) + 1]] <- data.frame(
      dataset = ds, by = by, group = strata_level(st), strata = st,
      time = f_log$time, n_risk = f_log$n.risk, n_event = f_log$n.event, n_censor = f_log$n.censor,
      surv = f_log$surv, std_err = f_log$std.err, se_surv = f_log$surv * f_log$std.err,
      cumhaz = f_log$cumhaz, std_chaz = f_log$std.chaz,
      lower_log = f_log$lower, upper_log = f_log$upper,
      lower_log_log = f_ll$lower, upper_log_log = f_ll$upper,
      lower_plain = f_pl$lower, upper_plain = f_pl$upper,
      stringsAsFactors = FALSE
    )
  }
}
write_fixture(do.call(rbind, km_rows), "km_curves.csv")

# ==============================================================================================
# (a') Risk table by direct counting (base R, no package call): km_risk_table.csv
#
#   For each dataset / group, one row per time at which anything happens: an exit (event or
#   censoring) or an entry after 0. With the CONTRIBUTING.md risk-set rule:
#     n_entered  = #{entry == t}                      (t > 0 only; entries at 0 are not counted)
#     n_at_risk  = #{(entry < t or entry == 0) and t <= time}
#     n_events   = #{time == t, event == 1};  n_censored = #{time == t, event == 0}
#   Cross-checked: at every time in the survfit output, n_at_risk == fit$n.risk and the
#   event/censor counts agree. Rows with n_events == n_censored == 0 are entry-only times,
#   which survfit does not report.
# ==============================================================================================
risk_table <- function(d, trunc) {
  entry <- if (trunc) d$entry else rep(0, nrow(d))
  tt <- sort(unique(c(d$time, entry[entry > 0])))
  data.frame(
    time = tt,
    n_entered = vapply(tt, function(t) sum(entry == t & entry > 0), numeric(1)),
    n_at_risk = vapply(tt, function(t) sum((entry < t | entry == 0) & d$time >= t), numeric(1)),
    n_events = vapply(tt, function(t) sum(d$time == t & d$event == 1), numeric(1)),
    n_censored = vapply(tt, function(t) sum(d$time == t & d$event == 0), numeric(1))
  )
}
rt_rows <- list()
for (ds in c("ibm", "maven_naive", "maven_truncated", "sim_truncated")) {
  spec <- datasets[[ds]]
  for (by in c("", spec$by)) {
    groups <- if (by == "") "" else levels(spec$data[[by]])
    fit <- km_fits[[paste(ds, by)]]
    st <- strata_level(fit_strata(fit))
    for (g in groups) {
      sub <- if (g == "") spec$data else spec$data[spec$data[[by]] == g, ]
      rt <- risk_table(sub, spec$trunc)
      w <- st == g
      m <- match(fit$time[w], rt$time)
      stopifnot(!anyNA(m))
      stopif_diff(rt$n_at_risk[m], fit$n.risk[w], paste(ds, by, g, "risk table n_at_risk"))
      stopif_diff(rt$n_events[m], fit$n.event[w], paste(ds, by, g, "risk table n_events"))
      stopif_diff(rt$n_censored[m], fit$n.censor[w], paste(ds, by, g, "risk table n_censored"))
      stopifnot(all(rt$n_events[-m] == 0), all(rt$n_censored[-m] == 0))
      rt_rows[[length(rt_rows) + 1]] <- data.frame(dataset = ds, by = by, group = g, rt,
                                                   in_survfit = seq_len(nrow(rt)) %in% m,
                                                   stringsAsFactors = FALSE)
    }
  }
}
write_fixture(do.call(rbind, rt_rows), "km_risk_table.csv")

# ==============================================================================================
# (a'') Survival at requested times: km_summary_times.csv
#
#   summary(fit, times = <times>, extend = TRUE)      for fit = each conf.type fit above
#
#   surv/cumhaz/std_chaz/lower/upper: value of the right-continuous step function at t (the
#     last output time <= t; 1 / 0 before the first time); beyond the last time (extend = TRUE)
#     the last value is carried forward.
#   std_err: summary's std.err, i.e. the SE of S (= surv * fit$std.err), NOT the log-scale one.
#   n_risk: fit$n.risk at the FIRST output time >= t (0 beyond the last time). With left
#     truncation this can differ from the true #{entry < t <= time} at a t between output times.
#   n_event / n_censor: counts in (previous requested time, t] (the first from the origin).
# ==============================================================================================
summary_times <- list(
  ibm             = c(0, 0.5, 1, 1.5, 6, 12.5, 24, 36, 60, 71.5, 72, 80),
  maven_naive     = c(0, 0.5, 1, 1.5, 6, 12.5, 24, 36, 60, 71.5, 72, 80),
  maven_truncated = c(0, 0.5, 1, 1.5, 6, 12.5, 24, 36, 60, 71.5, 72, 80),
  sim_truncated   = c(0, 0.5, 1, 3.5, 6, 12, 24, 36.5, 60, 81, 100),
  sim_continuous  = NULL  # set below from the data (includes an exact event time)
)
ev_co <- sort(sim_co$time[sim_co$event == 1])
summary_times$sim_continuous <- c(0, 1, 5, 10.5, ev_co[10], ev_co[100], 20, 40, max(sim_co$time), 70)

sm_rows <- list()
for (ds in names(datasets)) {
  spec <- datasets[[ds]]
  for (rhs in c("1", spec$by)) {
    fml <- surv_formula(spec$trunc, rhs)
    by <- if (rhs == "1") "" else rhs
    s <- list()
    for (ct in c("log", "log-log", "plain")) {
      fit <- survfit(fml, data = spec$data, conf.type = ct, conf.int = 0.95)
      s[[ct]] <- summary(fit, times = summary_times[[ds]], extend = TRUE)
    }
    s0 <- s[["log"]]
    st <- if (is.null(s0$strata)) rep("", length(s0$time)) else as.character(s0$strata)
    sm_rows[[length(sm_rows) + 1]] <- data.frame(
      dataset = ds, by = by, group = strata_level(st), strata = st,
      time = s0$time, n_risk = s0$n.risk, n_event = s0$n.event, n_censor = s0$n.censor,
      surv = s0$surv, std_err = s0$std.err, cumhaz = s0$cumhaz, std_chaz = s0$std.chaz,
      lower_log = s0$lower, upper_log = s0$upper,
      lower_log_log = s[["log-log"]]$lower, upper_log_log = s[["log-log"]]$upper,
      lower_plain = s[["plain"]]$lower, upper_plain = s[["plain"]]$upper,
      stringsAsFactors = FALSE
    )
  }
}
write_fixture(do.call(rbind, sm_rows), "km_summary_times.csv")

# ==============================================================================================
# (b) Quantiles: km_quantiles.csv
#
#   quantile(fit, probs = c(0.25, 0.5, 0.75), conf.int = TRUE)   for each conf.type fit
#
#   quantile p = first time where the KM curve drops to <= 1 - p; if the curve is flat at
#   exactly 1 - p (within sqrt(.Machine$double.eps)) the midpoint between that time and the
#   next drop is taken (or the last time in the curve if it never drops again).
#   lower = the same rule applied to fit$upper, upper = applied to fit$lower (a
#   Brookmeyer-Crowley-type interval read off the pointwise band of that conf.type).
#   Empty = NA (curve or band never reaches 1 - p).
# ==============================================================================================
q_rows <- list()
probs <- c(0.25, 0.5, 0.75)
for (ds in names(datasets)) {
  spec <- datasets[[ds]]
  for (rhs in c("1", spec$by)) {
    fml <- surv_formula(spec$trunc, rhs)
    by <- if (rhs == "1") "" else rhs
    for (ct in c("log", "log-log", "plain")) {
      fit <- survfit(fml, data = spec$data, conf.type = ct, conf.int = 0.95)
      q <- quantile(fit, probs = probs, conf.int = TRUE)
      qm <- function(x) if (is.matrix(x)) x else matrix(x, nrow = 1)
      Q <- qm(q$quantile); L <- qm(q$lower); U <- qm(q$upper)
      st <- if (is.null(fit$strata)) "" else names(fit$strata)
      for (i in seq_along(st)) {
        q_rows[[length(q_rows) + 1]] <- data.frame(
          dataset = ds, by = by, group = strata_level(st[i]), strata = st[i],
          conf_type = ct, prob = probs, quantile = Q[i, ], lower = L[i, ], upper = U[i, ],
          stringsAsFactors = FALSE
        )
      }
    }
  }
}
write_fixture(do.call(rbind, q_rows), "km_quantiles.csv")

# ==============================================================================================
# (c) Restricted mean survival time: km_rmean.csv
#
#   summary(fit, rmean = tau)$table       (identical to what print(fit, rmean = tau) shows)
#   fit = survfit(..., conf.type = "log") as in (a)
#
#   rmean = integral_0^tau S(u) du of the step function (start.time 0; if tau is past the last
#     time, S is carried forward at its last value).
#   se_rmean = sqrt( sum_{event times t_i <= tau} A_i^2 * d_i / (n_i (n_i - d_i)) ),
#     A_i = integral_{t_i}^{tau} S(u) du; a term with n_i == d_i contributes 0. No n/(n-1)
#     correction. (survival:::survmean.)
#   records = rows in the stratum, n_max = max n.risk, n_start = n.risk at the first output
#   time (with left truncation this is NOT the number of customers), events = sum(n.event)
#   over the whole curve; median, median_lower, median_upper = the table's median and its
#   0.95 CI from the log band (same rule as (b)).
# ==============================================================================================
rmean_taus <- list(
  ibm = c(24, 30.5, 72, 80), maven_naive = c(24, 30.5, 72, 80),
  maven_truncated = c(24, 30.5, 72, 80),
  sim_truncated = c(12, 24.5, 36, 100), sim_continuous = c(12, 24.5, 36, 70)
)
rm_rows <- list()
for (ds in names(datasets)) {
  spec <- datasets[[ds]]
  for (by in c("", spec$by)) {
    fit <- km_fits[[paste(ds, by)]]
    for (tau in rmean_taus[[ds]]) {
      tab <- summary(fit, rmean = tau)$table
      if (!is.matrix(tab)) tab <- matrix(tab, nrow = 1, dimnames = list("", names(tab)))
      ptab <- survival:::survmean(fit, rmean = tau)$matrix  # what print(fit, rmean = tau) prints
      if (!is.matrix(ptab)) ptab <- matrix(ptab, nrow = 1, dimnames = list(NULL, names(ptab)))
      stopif_diff(ptab[, "rmean"], tab[, "rmean"], "print vs summary rmean")
      stopif_diff(ptab[, "se(rmean)"], tab[, "se(rmean)"], "print vs summary se(rmean)")
      st <- if (is.null(fit$strata)) "" else rownames(tab)
      rm_rows[[length(rm_rows) + 1]] <- data.frame(
        dataset = ds, by = by, group = strata_level(st), strata = st, tau = tau,
        records = tab[, "records"], n_max = tab[, "n.max"], n_start = tab[, "n.start"],
        events = tab[, "events"], rmean = tab[, "rmean"], se_rmean = tab[, "se(rmean)"],
        median = tab[, "median"], median_lower = tab[, "0.95LCL"], median_upper = tab[, "0.95UCL"],
        stringsAsFactors = FALSE
      )
    }
  }
}
write_fixture(do.call(rbind, rm_rows), "km_rmean.csv")

# ==============================================================================================
# (d) Log-rank family: logrank_tests.csv, logrank_groups.csv, logrank_var.csv, logrank_trend.csv
#
#   survdiff(Surv(time, event) ~ contract, data = ibm, rho = 0)                            ibm_rho0
#   survdiff(Surv(time, event) ~ contract, data = ibm, rho = 1)                            ibm_rho1
#   survdiff(Surv(time, event) ~ contract + strata(internet_service), data = ibm, rho = 0) ibm_strat_rho0
#   survdiff(Surv(time, event) ~ contract + strata(internet_service), data = ibm, rho = 1) ibm_strat_rho1
#   survdiff(Surv(time, event) ~ contract, data = maven, rho = 0 / 1)          maven_naive_rho0 / _rho1
#   survdiff(Surv(time, event) ~ contract + strata(internet_service), data = maven)  maven_naive_strat_rho0
#   survdiff(Surv(time, event) ~ group, data = sim_continuous, rho = 0 / 1)    sim_continuous_rho0 / _rho1
#   survdiff(Surv(time, event) ~ group + strata(x2), data = sim_continuous)    sim_continuous_strat_rho0
#
#   survdiff's G-rho test: at each distinct event time t (within a stratum) with n at risk,
#   d events, n_j / d_j in group j, and weight w = S(t-)^rho where S is the Kaplan-Meier of the
#   POOLED sample of that stratum, LEFT-continuous (the value just before t):
#     obs_j += w d_j,  exp_j += w d n_j / n,
#     V += w^2 d (n - d) / (n - 1) [diag(n_j / n) - (n_j n_k) / n^2]   (hypergeometric; 0 if n == 1)
#   So for rho = 1, obs and exp are WEIGHTED sums (not counts). Strata: obs/exp/V are summed
#   over strata (obs/exp are reported per stratum too). chisq = (O-E)' V^- (O-E) using the
#   groups with exp > 0 minus the first one; df = (#groups with exp > 0) - 1.
#
#   survdiff does not accept Surv(entry, time, event). The *_truncated rows (method =
#   "manual") use the same formulas with the left-truncated risk set entry < t <= time and
#   the truncation-adjusted pooled KM for the rho weights, implemented below in base R
#   (logrank_manual). That implementation is checked to reproduce survdiff to 1e-10 on every
#   untruncated case above (chisq, obs, exp, var), and its risk sets are the ones checked
#   against survfit's n.risk in km_risk_table.csv. (coxph(ties = "exact") would give the
#   log-rank score test for (start, stop] data, but returns NaN / does not finish on data with
#   this many ties.)
#
#   Trend test (logrank_trend.csv): not in survival. From survdiff's totals with scores
#   w = 1..k on the factor levels (contract: Month-to-month = 1, One year = 2, Two year = 3;
#   group A = 1, B = 2, C = 3):  U = sum_j w_j (O_j - E_j),  var_U = w' V w,
#   chisq = U^2 / var_U (df 1), z = U / sqrt(var_U), p = pchisq(chisq, 1, lower = FALSE).
#   Shifting the scores does not change it (sum_j (O_j - E_j) = 0 and V 1 = 0).
# ==============================================================================================
logrank_manual <- function(entry, time, event, group, strata = NULL, rho = 0) {
  group <- factor(group)
  k <- nlevels(group)
  gi <- as.integer(group)
  if (is.null(strata)) strata <- rep(1L, length(time))
  strata <- factor(strata)
  O <- E <- matrix(0, k, nlevels(strata))
  V <- matrix(0, k, k)
  for (si in seq_len(nlevels(strata))) {
    ws <- as.integer(strata) == si
    ev_times <- sort(unique(time[ws & event == 1]))
    S <- 1
    for (t in ev_times) {
      at_risk <- ws & (entry < t | entry == 0) & time >= t
      dead <- ws & time == t & event == 1
      nj <- tabulate(gi[at_risk], k)
      dj <- tabulate(gi[dead], k)
      n <- sum(nj); d <- sum(dj)
      w <- S^rho
      O[, si] <- O[, si] + w * dj
      E[, si] <- E[, si] + w * d * nj / n
      if (n > 1) V <- V + w^2 * d * (n - d) / (n - 1) * (diag(nj / n, k) - outer(nj, nj) / n^2)
      S <- S * (1 - d / n)
    }
  }
  o <- rowSums(O); e <- rowSums(E)
  keep <- e > 0
  dd <- (o - e)[keep][-1]
  chisq <- if (sum(keep) < 2) 0 else sum(solve(V[keep, keep][-1, -1, drop = FALSE], dd) * dd)
  df <- sum(keep) - 1
  list(obs = O, exp = E, var = V, chisq = chisq, df = df,
       p = pchisq(chisq, df, lower.tail = FALSE), n = as.vector(table(group)),
       levels = levels(group), strata = levels(strata))
}

lr_specs <- list(
  list(id = "ibm_rho0", ds = "ibm", rhs = "contract", strat = NULL, rho = 0),
  list(id = "ibm_rho1", ds = "ibm", rhs = "contract", strat = NULL, rho = 1),
  list(id = "ibm_strat_rho0", ds = "ibm", rhs = "contract", strat = "internet_service", rho = 0),
  list(id = "ibm_strat_rho1", ds = "ibm", rhs = "contract", strat = "internet_service", rho = 1),
  list(id = "maven_naive_rho0", ds = "maven_naive", rhs = "contract", strat = NULL, rho = 0),
  list(id = "maven_naive_rho1", ds = "maven_naive", rhs = "contract", strat = NULL, rho = 1),
  list(id = "maven_naive_strat_rho0", ds = "maven_naive", rhs = "contract", strat = "internet_service", rho = 0),
  list(id = "sim_continuous_rho0", ds = "sim_continuous", rhs = "group", strat = NULL, rho = 0),
  list(id = "sim_continuous_rho1", ds = "sim_continuous", rhs = "group", strat = NULL, rho = 1),
  list(id = "sim_continuous_strat_rho0", ds = "sim_continuous", rhs = "group", strat = "x2", rho = 0),
  # manual (left-truncated) versions; no survdiff equivalent
  list(id = "maven_truncated_rho0", ds = "maven_truncated", rhs = "contract", strat = NULL, rho = 0),
  list(id = "maven_truncated_rho1", ds = "maven_truncated", rhs = "contract", strat = NULL, rho = 1),
  list(id = "maven_truncated_strat_rho0", ds = "maven_truncated", rhs = "contract", strat = "internet_service", rho = 0),
  list(id = "sim_truncated_rho0", ds = "sim_truncated", rhs = "group", strat = NULL, rho = 0),
  list(id = "sim_truncated_rho1", ds = "sim_truncated", rhs = "group", strat = NULL, rho = 1),
  list(id = "sim_truncated_strat_rho0", ds = "sim_truncated", rhs = "group", strat = "x2", rho = 0)
)

lr_tests <- list(); lr_groups <- list(); lr_var <- list(); lr_trend <- list()
for (sp in lr_specs) {
  spec <- datasets[[sp$ds]]
  d <- spec$data
  rhs <- if (is.null(sp$strat)) sp$rhs else sprintf("%s + strata(%s)", sp$rhs, sp$strat)
  entry <- if (spec$trunc) d$entry else rep(0, nrow(d))
  man <- logrank_manual(entry, d$time, d$event, d[[sp$rhs]],
                        if (is.null(sp$strat)) NULL else d[[sp$strat]], rho = sp$rho)
  if (!spec$trunc) {
    call <- sprintf("survdiff(Surv(time, event) ~ %s, rho = %d)", rhs, sp$rho)
    sd <- survdiff(as.formula(paste("Surv(time, event) ~", rhs)), data = d, rho = sp$rho)
    obs <- if (is.matrix(sd$obs)) sd$obs else matrix(sd$obs, ncol = 1)
    ex <- if (is.matrix(sd$exp)) sd$exp else matrix(sd$exp, ncol = 1)
    V <- sd$var
    chisq <- sd$chisq
    df <- sum(rowSums(ex) > 0) - 1
    p <- pchisq(chisq, df, lower.tail = FALSE)
    stopif_diff(sd$pvalue, p, paste(sp$id, "pvalue"))
    # the manual implementation reproduces survdiff on untruncated data
    stopif_diff(man$chisq, chisq, paste(sp$id, "manual chisq"))
    stopif_diff(man$obs, obs, paste(sp$id, "manual obs"))
    stopif_diff(man$exp, ex, paste(sp$id, "manual exp"))
    stopif_diff(man$var, V, paste(sp$id, "manual var"))
    method <- "survdiff"
  } else {
    call <- sprintf("logrank_manual(entry, time, event, %s%s, rho = %d)  # survdiff equivalent for Surv(entry, time, event)",
                    sp$rhs, if (is.null(sp$strat)) "" else paste0(", strata = ", sp$strat), sp$rho)
    obs <- man$obs; ex <- man$exp; V <- man$var
    chisq <- man$chisq; df <- man$df; p <- man$p
    method <- "manual"
  }
  lv <- levels(d[[sp$rhs]])
  o_tot <- rowSums(obs); e_tot <- rowSums(ex)
  lr_tests[[length(lr_tests) + 1]] <- data.frame(
    test_id = sp$id, dataset = sp$ds, method = method, call = call, group_var = sp$rhs,
    strata_var = if (is.null(sp$strat)) "" else sp$strat, rho = sp$rho,
    chisq = chisq, df = df, p = p, stringsAsFactors = FALSE)
  slv <- if (is.null(sp$strat)) "" else levels(factor(d[[sp$strat]]))
  lr_groups[[length(lr_groups) + 1]] <- rbind(
    data.frame(test_id = sp$id, group = lv, stratum = "(total)", n = as.vector(table(d[[sp$rhs]])),
               obs = o_tot, exp = e_tot, o_minus_e = o_tot - e_tot, var_diag = diag(V),
               stringsAsFactors = FALSE),
    if (!is.null(sp$strat)) data.frame(
      test_id = sp$id, group = rep(lv, length(slv)), stratum = rep(slv, each = length(lv)),
      n = as.vector(table(d[[sp$rhs]], factor(d[[sp$strat]]))),
      obs = as.vector(obs), exp = as.vector(ex), o_minus_e = as.vector(obs - ex), var_diag = NA,
      stringsAsFactors = FALSE)
  )
  lr_var[[length(lr_var) + 1]] <- data.frame(
    test_id = sp$id, row_group = rep(lv, times = length(lv)), col_group = rep(lv, each = length(lv)),
    var = as.vector(V), stringsAsFactors = FALSE)
  w <- seq_along(lv)
  U <- sum(w * (o_tot - e_tot)); vU <- as.numeric(t(w) %*% V %*% w)
  lr_trend[[length(lr_trend) + 1]] <- data.frame(
    test_id = sp$id, dataset = sp$ds, method = method, rho = sp$rho,
    scores = paste(sprintf("%s=%d", lv, w), collapse = ";"),
    u = U, var_u = vU, z = U / sqrt(vU), chisq = U^2 / vU, df = 1,
    p = pchisq(U^2 / vU, 1, lower.tail = FALSE), stringsAsFactors = FALSE)
}
write_fixture(do.call(rbind, lr_tests), "logrank_tests.csv")
write_fixture(do.call(rbind, lr_groups), "logrank_groups.csv")
write_fixture(do.call(rbind, lr_var), "logrank_var.csv")
write_fixture(do.call(rbind, lr_trend), "logrank_trend.csv")

# ==============================================================================================
# (e1) Aalen-Johansen CIFs from multi-state survfit: cif_aalen_johansen.csv
#
#   survfit(Surv(time, cause_f) ~ 1 / ~ contract, data = maven)                    maven_naive
#   survfit(Surv(entry, time, cause_f) ~ 1 / ~ contract, data = maven, id = id)    maven_truncated
#   survfit(Surv(entry, time, cause_f) ~ 1 / ~ group, data = sim_truncated, id = id)  sim_truncated
#   survfit(Surv(time, cause_f) ~ 1 / ~ group, data = sim_continuous)              sim_continuous
#   cause_f: factor whose FIRST level is censoring: maven levels censored, Attitude, Competitor,
#   Dissatisfaction, Other, Price; sim levels 0, 1, 2, 3.  (id = is required by survfit for
#   (start, stop] multi-state data; one row per id, so it changes nothing else.)
#
# One row per (dataset, by, group, time, state); states "(s0)" (= still a customer, i.e. the
# all-cause KM) and one per cause:
#   pstate    = fit$pstate[, state]        Aalen-Johansen probability; CIF for a cause
#   std_err   = fit$std.err[, state]       infinitesimal-jackknife SE, on the probability scale
#                                          (fit$logse is FALSE). NOT Greenwood / NOT Aalen/Gray.
#   lower/upper = fit$lower/upper          default conf.type "log" on that SE
#   n_risk    = fit$n.risk[, "(s0)"]       at risk in the initial state
#   n_event   = fit$n.event[, state]       transitions into the state at t (0 for "(s0)")
#   n_event_all, n_censor                  all-cause events, censored at t
#   cumhaz    = fit$cumhaz[, "1.k"]        cause-specific Nelson-Aalen for (s0) -> state (empty for (s0))
# Cross-checks: pstate[, "(s0)"] equals the KM of (a); 1 - rowSums(CIFs) equals it too; and on
# untruncated data the CIFs equal cmprsk::cuminc's estimates (e2) at every event time.
# ==============================================================================================
aj_specs <- list(
  list(ds = "maven_naive", d = maven, trunc = FALSE, by = "contract"),
  list(ds = "maven_truncated", d = maven, trunc = TRUE, by = "contract"),
  list(ds = "sim_truncated", d = sim_tr, trunc = TRUE, by = "group"),
  list(ds = "sim_continuous", d = sim_co, trunc = FALSE, by = "group")
)
aj_fits <- list()
aj_rows <- list()
for (sp in aj_specs) {
  for (rhs in c("1", sp$by)) {
    fml <- surv_formula(sp$trunc, rhs, status = "cause_f")
    fit <- if (sp$trunc) survfit(fml, data = sp$d, id = id) else survfit(fml, data = sp$d)
    by <- if (rhs == "1") "" else rhs
    aj_fits[[paste(sp$ds, by)]] <- fit
    stopifnot(identical(fit$states[1], "(s0)"), isFALSE(fit$logse))
    km <- km_fits[[paste(sp$ds, by)]]
    stopif_diff(fit$time, km$time, paste(sp$ds, by, "AJ times = KM times"))
    stopif_diff(fit$pstate[, 1], km$surv, paste(sp$ds, by, "AJ (s0) = KM"))
    stopif_diff(1 - rowSums(fit$pstate[, -1, drop = FALSE]), km$surv, paste(sp$ds, by, "1 - sum CIF = KM"))
    st <- fit_strata(fit)
    nt <- length(fit$time)
    states <- fit$states
    # transition labels of cumhaz columns are "1.2", "1.3", ... (from state 1 = (s0))
    ch_cols <- colnames(fit$cumhaz)
    for (j in seq_along(states)) {
      chz <- if (j == 1) rep(NA_real_, nt) else {
        cn <- paste0("1.", j)
        if (!is.null(ch_cols) && cn %in% ch_cols) fit$cumhaz[, cn] else fit$cumhaz[, j - 1]
      }
      aj_rows[[length(aj_rows) + 1]] <- data.frame(
        dataset = sp$ds, by = by, group = strata_level(st), strata = st, time = fit$time,
        state = states[j], pstate = fit$pstate[, j], std_err = fit$std.err[, j],
        lower = fit$lower[, j], upper = fit$upper[, j],
        n_risk = fit$n.risk[, 1], n_event = fit$n.event[, j],
        n_event_all = rowSums(fit$n.event), n_censor = fit$n.censor, cumhaz = chz,
        stringsAsFactors = FALSE)
    }
  }
}
aj <- do.call(rbind, aj_rows)
aj <- aj[order(match(aj$dataset, names(datasets)), aj$by != "", aj$by, aj$strata, aj$time,
               match(aj$state, unique(aj$state))), ]
write_fixture(aj, "cif_aalen_johansen.csv")

# ==============================================================================================
# (e2) cmprsk::cuminc: cuminc_curves.csv, cuminc_timepoints.csv, cuminc_tests.csv
#
#   cuminc(maven$time, maven$fstatus, cencode = "censored")                               maven_naive, by ""
#   cuminc(maven$time, maven$fstatus, maven$contract, cencode = "censored")               maven_naive, by contract
#   cuminc(maven$time, maven$fstatus, maven$contract, strata = maven$internet_service,
#          cencode = "censored")                                                          (tests only: stratified)
#   cuminc(sim_co$time, sim_co$cause, cencode = 0)                                         sim_continuous, by ""
#   cuminc(sim_co$time, sim_co$cause, sim_co$group, cencode = 0)                           sim_continuous, by group
#   cuminc(sim_co$time, sim_co$cause, sim_co$group, strata = sim_co$x2, cencode = 0)       (tests only)
#   timepoints(fit, times = <times>)
#   (rho = 0, the default, in Gray's test.)
#
# cuminc_curves: the raw $time/$est/$var vectors of each "<group> <cause>" component, in order
#   (point = 1, 2, ...). They describe a step function for plotting: point 1 is (0, 0); then
#   every distinct event time of THAT cause appears twice, first with the value before the jump,
#   then after; the last point is the group's largest follow-up time (any exit). Other-cause
#   event times do not appear. var is Gray's (1988) delta-method (Aalen-type) variance; at a
#   cause-k event time it includes the contributions of the other-cause events up to that
#   time, but it is only updated at cause-k event times (so it is flat, and "stale", between).
# cuminc_timepoints: timepoints() = value of that step function at t (right-continuous);
#   NA (empty) beyond the group's largest follow-up time.
# cuminc_tests: $Tests: stat, pv, df per cause (Gray's K-sample test; strata only change the
#   test, not the curves).
# ==============================================================================================
ci_rows <- list(); ci_tp <- list(); ci_tests <- list()
ci_specs <- list(
  list(ds = "maven_naive", d = maven, status = "fstatus", cencode = "censored", by = "contract",
       strat = "internet_service", causes = maven_causes,
       times = c(0, 0.5, 1, 1.5, 6, 12.5, 24, 36, 60, 71.5, 72, 80)),
  list(ds = "sim_continuous", d = sim_co, status = "cause", cencode = 0, by = "group",
       strat = "x2", causes = as.character(1:3), times = summary_times$sim_continuous)
)
for (sp in ci_specs) {
  d <- sp$d
  for (by in c("", sp$by)) {
    if (by == "") {
      fit <- cuminc(d$time, d[[sp$status]], cencode = sp$cencode)
      groups <- "1"
      call <- sprintf("cuminc(time, %s, cencode = %s)", sp$status, deparse(sp$cencode))
    } else {
      fit <- cuminc(d$time, d[[sp$status]], d[[by]], cencode = sp$cencode)
      groups <- levels(factor(d[[by]]))
      call <- sprintf("cuminc(time, %s, %s, cencode = %s)", sp$status, by, deparse(sp$cencode))
    }
    tp <- timepoints(fit, sp$times)
    for (g in groups) {
      for (cz in sp$causes) {
        key <- paste(g, cz)
        comp <- fit[[key]]
        stopifnot(!is.null(comp))
        glab <- if (by == "") "" else g
        ci_rows[[length(ci_rows) + 1]] <- data.frame(
          dataset = sp$ds, by = by, group = glab, cause = cz, point = seq_along(comp$time),
          time = comp$time, est = comp$est, var = comp$var, stringsAsFactors = FALSE)
        ci_tp[[length(ci_tp) + 1]] <- data.frame(
          dataset = sp$ds, by = by, group = glab, cause = cz, time = sort(unique(sp$times)),
          est = tp$est[key, ], var = tp$var[key, ], stringsAsFactors = FALSE)
        # cross-check against the Aalen-Johansen multi-state survfit: same point estimates
        ajf <- aj_fits[[paste(sp$ds, by)]]
        ast <- strata_level(fit_strata(ajf))
        w <- if (by == "") rep(TRUE, length(ajf$time)) else ast == g
        jj <- match(cz, ajf$states)
        ev_t <- unique(comp$time[-c(1, length(comp$time))])
        after <- comp$est[-1][!duplicated(comp$time[-1], fromLast = TRUE)]  # post-jump values
        after_t <- comp$time[-1][!duplicated(comp$time[-1], fromLast = TRUE)]
        m <- match(after_t, ajf$time[w])
        stopifnot(!anyNA(m))
        stopif_diff(after, ajf$pstate[w, jj][m], paste(sp$ds, by, g, cz, "cuminc == AJ"))
      }
    }
    if (by != "") {
      for (strat in c(FALSE, TRUE)) {
        if (strat) {
          fit_t <- cuminc(d$time, d[[sp$status]], d[[by]], strata = d[[sp$strat]], cencode = sp$cencode)
          call_t <- sub("\\)$", sprintf(", strata = %s)", sp$strat), call)
        } else {
          fit_t <- fit
          call_t <- call
        }
        tt <- fit_t$Tests
        ci_tests[[length(ci_tests) + 1]] <- data.frame(
          dataset = sp$ds, call = call_t, by = by, strata_var = if (strat) sp$strat else "",
          cause = rownames(tt), stat = tt[, "stat"], pv = tt[, "pv"], df = tt[, "df"],
          stringsAsFactors = FALSE)
      }
    }
  }
}
write_fixture(do.call(rbind, ci_rows), "cuminc_curves.csv")
write_fixture(do.call(rbind, ci_tp), "cuminc_timepoints.csv")
write_fixture(do.call(rbind, ci_tests), "cuminc_tests.csv")

# ==============================================================================================
# (e3) Fine-Gray: crr_coef.csv, crr_var.csv, crr_baseline.csv, crr_predict.csv
#
#   sim_continuous:
#     fit <- crr(sim_co$time, sim_co$cause, cov1 = cbind(x1 = sim_co$x1, x2 = sim_co$x2),
#                failcode = 1, cencode = 0)
#   maven_naive (untruncated times; crr has no left truncation):
#     cov1 <- cbind(contract_one_year = as.numeric(maven$contract == "One Year"),
#                   contract_two_year = as.numeric(maven$contract == "Two Year"),
#                   monthly_charge = maven$monthly_charge)      # reference: Month-to-Month
#     fit <- crr(maven$time, maven$fstatus, cov1, failcode = "Competitor", cencode = "censored")
#   coef = fit$coef; se = sqrt(diag(fit$var)) (Fine-Gray robust sandwich, which is what
#   summary.crr reports); z = coef / se; p = 2 pnorm(-|z|); loglik = fit$loglik,
#   loglik_null = fit$loglik.null, converged, n = fit$n. crr_var: the full fit$var.
#   crr_baseline: fit$uftime (distinct failcode event times) and fit$bfitj (Breslow-type jumps
#   of the baseline subdistribution hazard), plus cumsum(bfitj).
#   crr_predict: predict(fit, cov1 = <profile matrix>) -> CIF(t | x) = 1 - exp(-cumsum(exp(x'b) bfitj))
#   at each uftime, for the profiles listed in the `profile` column.
# ==============================================================================================
crr_specs <- list(
  list(ds = "sim_continuous", ftime = sim_co$time, fstatus = sim_co$cause,
       cov1 = cbind(x1 = sim_co$x1, x2 = sim_co$x2), failcode = 1, cencode = 0,
       call = "crr(time, cause, cov1 = cbind(x1, x2), failcode = 1, cencode = 0)",
       profiles = rbind("x1=0;x2=0" = c(0, 0), "x1=1;x2=1" = c(1, 1), "x1=-0.5;x2=0" = c(-0.5, 0))),
  list(ds = "maven_naive", ftime = maven$time, fstatus = maven$fstatus,
       cov1 = cbind(contract_one_year = as.numeric(maven$contract == "One Year"),
                    contract_two_year = as.numeric(maven$contract == "Two Year"),
                    monthly_charge = maven$monthly_charge),
       failcode = "Competitor", cencode = "censored",
       call = paste("crr(time, fstatus, cov1 = cbind(contract_one_year, contract_two_year, monthly_charge),",
                    "failcode = \"Competitor\", cencode = \"censored\")"),
       profiles = rbind("Month-to-Month;monthly_charge=70" = c(0, 0, 70),
                        "One Year;monthly_charge=70" = c(1, 0, 70),
                        "Two Year;monthly_charge=20" = c(0, 1, 20)))
)
crr_coef <- list(); crr_var <- list(); crr_base <- list(); crr_pred <- list()
for (sp in crr_specs) {
  fit <- crr(sp$ftime, sp$fstatus, cov1 = sp$cov1, failcode = sp$failcode, cencode = sp$cencode)
  stopifnot(isTRUE(fit$converged))
  se <- sqrt(diag(fit$var))
  z <- fit$coef / se
  stopif_diff(summary(fit)$coef[, "se(coef)"], se, paste(sp$ds, "crr se"))
  crr_coef[[length(crr_coef) + 1]] <- data.frame(
    dataset = sp$ds, call = sp$call, term = names(fit$coef), coef = unname(fit$coef), se = unname(se),
    z = unname(z), p = unname(2 * pnorm(-abs(z))), loglik = fit$loglik, loglik_null = fit$loglik.null,
    converged = fit$converged, n = fit$n, stringsAsFactors = FALSE)
  nm <- names(fit$coef)
  crr_var[[length(crr_var) + 1]] <- data.frame(
    dataset = sp$ds, row_term = rep(nm, times = length(nm)), col_term = rep(nm, each = length(nm)),
    var = as.vector(fit$var), stringsAsFactors = FALSE)
  crr_base[[length(crr_base) + 1]] <- data.frame(
    dataset = sp$ds, uftime = fit$uftime, bfitj = fit$bfitj, cum_bfitj = cumsum(fit$bfitj),
    stringsAsFactors = FALSE)
  pr <- predict(fit, cov1 = sp$profiles)
  for (i in seq_len(nrow(sp$profiles))) {
    stopif_diff(pr[, i + 1], 1 - exp(-cumsum(exp(sum(sp$profiles[i, ] * fit$coef)) * fit$bfitj)),
                paste(sp$ds, "predict.crr formula"))
    crr_pred[[length(crr_pred) + 1]] <- data.frame(
      dataset = sp$ds, profile = rownames(sp$profiles)[i], time = pr[, 1], cif = pr[, i + 1],
      stringsAsFactors = FALSE)
  }
}
write_fixture(do.call(rbind, crr_coef), "crr_coef.csv")
write_fixture(do.call(rbind, crr_var), "crr_var.csv")
write_fixture(do.call(rbind, crr_base), "crr_baseline.csv")
write_fixture(do.call(rbind, crr_pred), "crr_predict.csv")

# ==============================================================================================
# VERSIONS.txt
# ==============================================================================================
con <- file(file.path(out_dir, "VERSIONS.txt"), open = "wb")
writeLines(c(
  "Generated by: Rscript tests/reference/make_reference.R (inputs from tests/reference/make_inputs.R)",
  paste("R:", R.version.string),
  paste("platform:", R.version$platform),
  paste("survival:", as.character(packageVersion("survival"))),
  paste("cmprsk:", as.character(packageVersion("cmprsk"))),
  "number format: %.17g (round-trips IEEE doubles); NA/NaN empty; Inf written as inf",
  "",
  "files (rows x columns):",
  sprintf("  %-28s %6d x %d", names(written), vapply(written, `[`, numeric(1), 1),
          vapply(written, `[`, numeric(1), 2))
), con)
close(con)
cat("done\n")
