#!/usr/bin/env Rscript
# Reference values for churnsurv.competing that the shared fixtures (make_reference.R:
# cif_aalen_johansen.csv, cuminc_curves.csv, cuminc_timepoints.csv, cuminc_tests.csv) do not cover:
# case weights in the multi-state IJ variance, the tied three-cause simulated data without truncation,
# and Gray's test with rho != 0.
#
# Run from the repository root:
#     Rscript tests/reference/make_reference_competing.R
#
# Reads tests/reference/inputs/{maven_telco,sim_truncated,sim_continuous}.csv and writes
#   tests/reference/fixtures/competing_survfit.csv  survival::survfit multi-state (Aalen-Johansen):
#       dataset, group, time, n_risk, state, pstate, std_err, lower, upper   (conf.type "log", 95%)
#       std_err is what survfit reports at default settings: the infinitesimal jackknife,
#       sqrt(sum_i (w_i U_i)^2), on the probability scale.
#   tests/reference/fixtures/competing_cuminc.csv   cmprsk::cuminc curves (plotting vertices, in order):
#       dataset, group, cause, point, time, est, var
#   tests/reference/fixtures/competing_gray.csv     cmprsk::cuminc(...)$Tests (Gray 1988):
#       dataset, strata, rho, cause, stat, pv, df
#
# Datasets (group = the segment):
#   sim_weighted     sim_truncated with case weights w = 0.5 + 0.25 * (id %% 4),
#                    survfit(Surv(entry, time, status) ~ group, id = id, weights = w)
#   sim_naive        sim_truncated ignoring entry (tied monthly times, 3 causes), Surv(time, status) ~ group
#   maven_naive      Maven telco by contract, Surv(time, status)   (Gray's test with rho = 1 only)
#   sim_continuous   simulated continuous times, 3 causes, by group (Gray's test with rho = 1 only)
# cmprsk has no left truncation, so cuminc/Gray use untruncated data only.
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
stopifnot(packageVersion("survival") >= "3.5.0", packageVersion("cmprsk") >= "2.2.11")

in_dir <- file.path("tests", "reference", "inputs")
out_dir <- file.path("tests", "reference", "fixtures")
if (!dir.exists(in_dir)) stop("run from the repository root: Rscript tests/reference/make_reference_competing.R")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

maven <- read.csv(file.path(in_dir, "maven_telco.csv"), stringsAsFactors = FALSE, na.strings = "")
maven$cause[maven$event == 0] <- "0"
sim_tr <- read.csv(file.path(in_dir, "sim_truncated.csv"), stringsAsFactors = FALSE)
sim_co <- read.csv(file.path(in_dir, "sim_continuous.csv"), stringsAsFactors = FALSE)
sim_w <- sim_tr
sim_w$w <- 0.5 + 0.25 * (sim_w$id %% 4)

# status factor: first level = censored ("0"), then the causes in sorted order
as_status <- function(cause) {
  cause <- as.character(cause)
  factor(cause, levels = c("0", sort(setdiff(unique(cause), "0"))))
}

datasets <- list(
  maven_naive     = list(d = maven,  group = "contract", truncated = FALSE),
  sim_naive       = list(d = sim_tr, group = "group",    truncated = FALSE),
  sim_continuous  = list(d = sim_co, group = "group",    truncated = FALSE),
  sim_weighted    = list(d = sim_w,  group = "group",    truncated = TRUE)
)

# ------------------------------------------------------------------ survfit multi-state
sf_rows <- list()
for (nm in c("sim_weighted", "sim_naive")) {
  ds <- datasets[[nm]]
  d <- ds$d
  d$status <- as_status(d$cause)
  d$grp <- factor(d[[ds$group]])
  if (is.null(d$w)) d$w <- 1
  fit <- if (ds$truncated) {
    survfit(Surv(entry, time, status) ~ grp, data = d, id = id, weights = w)
  } else {
    survfit(Surv(time, status) ~ grp, data = d)
  }
  states <- fit$states
  states[states == "(s0)"] <- "(s0)"
  grp <- rep(sub("^grp=", "", names(fit$strata)), fit$strata)
  nrisk <- if (is.matrix(fit$n.risk)) fit$n.risk[, 1] else fit$n.risk
  for (j in seq_along(states)) {
    sf_rows[[length(sf_rows) + 1]] <- data.frame(
      dataset = nm, group = grp, time = fit$time, n_risk = nrisk, state = states[j],
      pstate = fit$pstate[, j], std_err = fit$std.err[, j], lower = fit$lower[, j], upper = fit$upper[, j],
      stringsAsFactors = FALSE)
  }
}
sf <- do.call(rbind, sf_rows)

# ------------------------------------------------------------------ cuminc and Gray's test
ci_rows <- list()
gray_rows <- list()
add_gray <- function(nm, z, strata_name, rho) {
  tt <- z$Tests
  data.frame(dataset = nm, strata = strata_name, rho = rho, cause = rownames(tt), stat = tt[, "stat"],
             pv = tt[, "pv"], df = tt[, "df"], stringsAsFactors = FALSE)
}
# curves and tests (rho = 0 and 1) of the tied three-cause data; rho = 1 for the other two datasets
for (nm in c("sim_naive", "maven_naive", "sim_continuous")) {
  ds <- datasets[[nm]]
  d <- ds$d
  if (nm == "sim_naive") {
    z <- cuminc(d$time, as.character(d$cause), d[[ds$group]], cencode = "0")
    for (key in setdiff(names(z), "Tests")) {
      # curve names are "<group> <cause>"
      g <- sub(" .*$", "", key)
      cause <- sub("^[^ ]+ ", "", key)
      ci_rows[[length(ci_rows) + 1]] <- data.frame(dataset = nm, group = g, cause = cause,
                                                   point = seq_along(z[[key]]$time), time = z[[key]]$time,
                                                   est = z[[key]]$est, var = z[[key]]$var,
                                                   stringsAsFactors = FALSE)
    }
    gray_rows[[length(gray_rows) + 1]] <- add_gray(nm, z, "(none)", 0)
  }
  z1 <- cuminc(d$time, as.character(d$cause), d[[ds$group]], rho = 1, cencode = "0")
  gray_rows[[length(gray_rows) + 1]] <- add_gray(nm, z1, "(none)", 1)
}
# stratified, rho = 0.5: the simulated data by group within x2
z <- cuminc(sim_tr$time, as.character(sim_tr$cause), sim_tr$group, strata = sim_tr$x2, rho = 0.5, cencode = "0")
gray_rows[[length(gray_rows) + 1]] <- add_gray("sim_naive", z, "x2", 0.5)
ci <- do.call(rbind, ci_rows)
gray <- do.call(rbind, gray_rows)

write_fixture <- function(df, name) {
  # numbers with 17 significant digits (round-trip exact); labels never contain commas or quotes
  for (col in names(df)) {
    x <- df[[col]]
    if (is.numeric(x)) df[[col]] <- ifelse(is.na(x), "NA", sprintf("%.17g", x))
    else if (any(grepl("[,\"\n]", x))) stop("column ", col, " needs quoting")
  }
  write.csv(df, file.path(out_dir, name), row.names = FALSE, quote = FALSE)
  cat(sprintf("wrote %-26s %6d rows\n", name, nrow(df)))
}
write_fixture(sf, "competing_survfit.csv")
write_fixture(ci, "competing_cuminc.csv")
write_fixture(gray, "competing_gray.csv")
cat(sprintf("R %s, survival %s, cmprsk %s\n", getRversion(), packageVersion("survival"), packageVersion("cmprsk")))
