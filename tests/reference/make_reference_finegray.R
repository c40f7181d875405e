#!/usr/bin/env Rscript
# Reference values for churnsurv.competing.finegray (Fine-Gray subdistribution hazard regression), from
# cmprsk::crr and cmprsk::predict.crr.
#
# Run from the repository root (after tests/reference/make_inputs.R has written the inputs):
#     Rscript tests/reference/make_reference_finegray.R
#
# Writes tests/reference/fixtures/finegray_*.csv (long format, one file per kind of result, keyed by
# `case`); tests/competing/test_against_r_finegray.py reads them. CI never runs R.
#
# Cases (crr ignores left truncation, so the `entry` columns of the inputs are NOT used):
#   sim_continuous   inputs/sim_continuous.csv (500 rows, no tied times), failcode 1 (causes 1, 2, 3),
#                    covariates x1 (continuous) and x2 (binary).
#   sim_ties         inputs/sim_truncated.csv read naively (time only; 2000 rows, integer months, many
#                    ties between failures, competing failures and censorings), failcode 1, covariates
#                    x1, x2 and group (treatment coding, reference A).
#   sim_cengroup     as sim_ties with cengroup = group (censoring Kaplan-Meier stratified by group).
#   telco            inputs/maven_telco.csv (7043 customers, tenure in whole months), failcode
#                    "Competitor" (other churn categories compete), covariates contract (reference
#                    Month-to-Month) and monthly_charge.
#   telco_cengroup   as telco with cengroup = internet_service.
#
# crr is run with gtol = 1e-12 and maxiter = 100 (defaults 1e-6 and 10) so that the reference
# coefficients are the maximiser to ~1e-12, not to crr's default tolerance.
#
# Files (numbers printed with 17 significant digits):
#   finegray_fit.csv       case, n, n_events, loglik, loglik_null, converged
#   finegray_coef.csv      case, term, coef, std_error (sqrt(diag(fit$var))), naive_std_error
#                          (sqrt(diag(fit$invinf))), score (fit$score)
#   finegray_vcov.csv      case, row, col, value (fit$var, the robust sandwich with the IPCW term)
#   finegray_baseline.csv  case, time (fit$uftime), jump (fit$bfitj), cumulative_hazard (cumsum)
#   finegray_profiles.csv  case, profile, variable, value: raw covariate values of the two profiles
#   finegray_predict.csv   case, profile, time, estimate: predict.crr(fit, cov1) cumulative incidence

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

in_dir <- file.path("tests", "reference", "inputs")
fx_dir <- file.path("tests", "reference", "fixtures")
if (!file.exists(file.path(in_dir, "maven_telco.csv"))) {
  stop("run from the repository root after tests/reference/make_inputs.R")
}
dir.create(fx_dir, showWarnings = FALSE, recursive = TRUE)

num <- function(x) sprintf("%.17g", x)

# Design matrix: numeric columns as they are, character columns treatment-coded against `ref`, with the
# term names churnsurv gives them: "column[level]".
design <- function(df, covariates, reference = list()) {
  cols <- list()
  for (v in covariates) {
    x <- df[[v]]
    if (is.character(x)) {
      levels <- sort(unique(x))
      ref <- if (!is.null(reference[[v]])) reference[[v]] else levels[1]
      for (lv in setdiff(levels, ref)) cols[[sprintf("%s[%s]", v, lv)]] <- as.numeric(x == lv)
    } else {
      cols[[v]] <- as.numeric(x)
    }
  }
  m <- do.call(cbind, cols)
  colnames(m) <- names(cols)
  m
}

sim_co <- read.csv(file.path(in_dir, "sim_continuous.csv"), stringsAsFactors = FALSE)
sim_tr <- read.csv(file.path(in_dir, "sim_truncated.csv"), stringsAsFactors = FALSE)
maven <- read.csv(file.path(in_dir, "maven_telco.csv"), stringsAsFactors = FALSE, na.strings = "")
maven$fstatus <- ifelse(maven$event == 1L, maven$cause, "censored")

cases <- list(
  sim_continuous = list(df = sim_co, fstatus = sim_co$cause, failcode = 1, cencode = 0,
                        covariates = c("x1", "x2"), reference = list(), cengroup = NULL,
                        profiles = data.frame(x1 = c(0, 1), x2 = c(0, 1))),
  sim_ties = list(df = sim_tr, fstatus = sim_tr$cause, failcode = 1, cencode = 0,
                  covariates = c("x1", "x2", "group"), reference = list(group = "A"), cengroup = NULL,
                  profiles = data.frame(x1 = c(0, 0.5), x2 = c(0, 1), group = c("A", "C"),
                                        stringsAsFactors = FALSE)),
  sim_cengroup = list(df = sim_tr, fstatus = sim_tr$cause, failcode = 1, cencode = 0,
                      covariates = c("x1", "x2", "group"), reference = list(group = "A"),
                      cengroup = "group",
                      profiles = data.frame(x1 = c(0, 0.5), x2 = c(0, 1), group = c("A", "C"),
                                            stringsAsFactors = FALSE)),
  telco = list(df = maven, fstatus = maven$fstatus, failcode = "Competitor", cencode = "censored",
               covariates = c("contract", "monthly_charge"),
               reference = list(contract = "Month-to-Month"), cengroup = NULL,
               profiles = data.frame(contract = c("Month-to-Month", "Two Year"),
                                     monthly_charge = c(70, 50), stringsAsFactors = FALSE)),
  telco_cengroup = list(df = maven, fstatus = maven$fstatus, failcode = "Competitor",
                        cencode = "censored", covariates = c("contract", "monthly_charge"),
                        reference = list(contract = "Month-to-Month"), cengroup = "internet_service",
                        profiles = data.frame(contract = c("Month-to-Month", "Two Year"),
                                              monthly_charge = c(70, 50), stringsAsFactors = FALSE))
)

out_fit <- out_coef <- out_vcov <- out_base <- out_prof <- out_pred <- list()
for (name in names(cases)) {
  cs <- cases[[name]]
  df <- cs$df
  x <- design(df, cs$covariates, cs$reference)
  args <- list(ftime = df$time, fstatus = cs$fstatus, cov1 = x, failcode = cs$failcode,
               cencode = cs$cencode, gtol = 1e-12, maxiter = 100)
  if (!is.null(cs$cengroup)) args$cengroup <- df[[cs$cengroup]]
  fit <- do.call(crr, args)
  stopifnot(fit$converged)
  terms <- colnames(x)

  out_fit[[name]] <- data.frame(case = name, n = fit$n, n_events = sum(cs$fstatus == cs$failcode),
                                loglik = num(fit$loglik), loglik_null = num(fit$loglik.null),
                                converged = fit$converged)
  out_coef[[name]] <- data.frame(case = name, term = terms, coef = num(fit$coef),
                                 std_error = num(sqrt(diag(fit$var))),
                                 naive_std_error = num(sqrt(diag(fit$invinf))),
                                 score = num(fit$score))
  out_vcov[[name]] <- data.frame(case = name, row = rep(terms, times = length(terms)),
                                 col = rep(terms, each = length(terms)), value = num(c(fit$var)))
  out_base[[name]] <- data.frame(case = name, time = num(fit$uftime), jump = num(fit$bfitj),
                                 cumulative_hazard = num(cumsum(fit$bfitj)))

  # profiles: build their design rows with the data's levels, then predict.crr
  prof <- cs$profiles
  both <- rbind(df[, cs$covariates, drop = FALSE], prof)
  px <- design(both, cs$covariates, cs$reference)
  px <- px[(nrow(df) + 1):nrow(both), , drop = FALSE]
  stopifnot(identical(colnames(px), terms))
  pred <- predict(fit, cov1 = px)
  for (j in seq_len(nrow(prof))) {
    pname <- sprintf("p%d", j)
    out_prof[[paste(name, pname)]] <- data.frame(case = name, profile = pname,
                                                 variable = names(prof),
                                                 value = vapply(prof[j, ], as.character, ""))
    out_pred[[paste(name, pname)]] <- data.frame(case = name, profile = pname, time = num(pred[, 1]),
                                                 estimate = num(pred[, j + 1]))
  }
  cat(sprintf("%-15s n=%d events=%d terms=%s loglik=%.6f\n", name, fit$n,
              sum(cs$fstatus == cs$failcode), paste(terms, collapse = ","), fit$loglik))
}

write_fixture <- function(parts, file) {
  df <- do.call(rbind, unname(parts))
  write.csv(df, file.path(fx_dir, file), row.names = FALSE, quote = TRUE)
  cat(sprintf("wrote %s (%d rows)\n", file, nrow(df)))
}
write_fixture(out_fit, "finegray_fit.csv")
write_fixture(out_coef, "finegray_coef.csv")
write_fixture(out_vcov, "finegray_vcov.csv")
write_fixture(out_base, "finegray_baseline.csv")
write_fixture(out_prof, "finegray_profiles.csv")
write_fixture(out_pred, "finegray_predict.csv")
cat(sprintf("R %s, cmprsk %s, survival %s\n", getRversion(), packageVersion("cmprsk"),
            packageVersion("survival")))
