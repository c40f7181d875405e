#!/usr/bin/env Rscript
# Reference values for churnsurv.competing.finegray.FineGray with Geskus (2011) weights, i.e. for Fine-Gray
# regression on left-truncated (entry, exit] data, from survival::finegray followed by a weighted coxph.
#
# Run from the repository root (after tests/reference/make_inputs.R has written the inputs):
#     Rscript tests/reference/make_reference_finegray_truncated.R
#
# Writes tests/reference/fixtures/fg_truncated_*.csv (long format, keyed by `case` and `ties`);
# tests/competing/test_against_r_finegray.py reads them. CI never runs R.
#
# For each case the script calls
#     fg  <- finegray(Surv([entry, ] time, status) ~ ., data, etype = <cause>, id = id)
#     fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ <terms>, data = fg, weights = fgwt, id = id,
#                  ties = "efron" / "breslow",
#                  control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100))
#     survfit(fit, newdata = <profiles>)
# `id = id` in coxph makes its robust variance group the expanded rows of each customer (the sandwich
# with one score residual per customer); without it coxph's "robust se" treats the rows of one customer as
# independent (that column is stored too, as row_robust_std_error).
#
# Cases (status is a factor whose first level is censoring; cause of interest as given):
#   maven_naive       inputs/maven_telco.csv read as Surv(time, status): right-censored, no entry
#                     (finegray's own censoring weights; not crr's tie convention), cause "Competitor",
#                     covariate contract (reference Month-to-Month).
#   maven_truncated   Surv(entry, time, status), entry = max(time - 3, 0) for customers already on the books
#                     (0 for "Joined"): the snapshot read with left truncation. Same model.
#   sim_truncated     inputs/sim_truncated.csv (seeded simulation, 2000 rows, entry > 0 for 38%),
#                     Surv(entry, time, status), cause 1 (of 1, 2, 3), covariates x1, x2, group (ref A).
#
# Files (numbers printed with 17 significant digits):
#   fg_truncated_fit.csv      case, ties, n, n_rows (expanded), n_events, loglik, loglik_null, iter
#   fg_truncated_coef.csv     case, ties, term, coef, std_error (robust, grouped by id), naive_std_error
#                             (se(coef), model based), row_robust_std_error (robust, rows independent)
#   fg_truncated_vcov.csv     case, ties, kind (robust / naive), row, col, value
#   fg_truncated_weights.csv  case, exit, start, stop, weight: the distinct extended rows of customers with a
#                             competing defection at `exit` (finegray's fgwt on (start, stop])
#   fg_truncated_predict.csv  case, ties, profile, time, cumulative_hazard, estimate (1 - survfit's surv)
#   fg_truncated_profiles.csv case, profile, variable, value

suppressPackageStartupMessages(library(survival))

in_dir <- file.path("tests", "reference", "inputs")
fx_dir <- file.path("tests", "reference", "fixtures")
if (!file.exists(file.path(in_dir, "maven_telco.csv"))) {
  stop("run from the repository root after tests/reference/make_inputs.R")
}
num <- function(x) sprintf("%.17g", x)

maven <- read.csv(file.path(in_dir, "maven_telco.csv"), stringsAsFactors = FALSE, na.strings = "")
# the snapshot reading: one quarter of history for customers already on the books, none before sign-up
stopifnot(all(maven$entry == ifelse(maven$status == "Joined", 0, pmax(maven$time - 3, 0))))
maven$fstatus <- factor(ifelse(maven$event == 1L, maven$cause, "censored"),
                        levels = c("censored", sort(unique(maven$cause[maven$event == 1L]))))
sim <- read.csv(file.path(in_dir, "sim_truncated.csv"), stringsAsFactors = FALSE)
sim$fstatus <- factor(sim$cause, levels = 0:3)

# treatment-coded design columns named as churnsurv names its terms: "column[level]"
design <- function(df, covariates, reference) {
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
  as.data.frame(cols, check.names = FALSE)
}

cases <- list(
  maven_naive = list(df = maven, truncated = FALSE, etype = "Competitor", covariates = "contract",
                     reference = list(contract = "Month-to-Month"),
                     profiles = data.frame(contract = c("Month-to-Month", "One Year", "Two Year"),
                                           stringsAsFactors = FALSE)),
  maven_truncated = list(df = maven, truncated = TRUE, etype = "Competitor", covariates = "contract",
                         reference = list(contract = "Month-to-Month"),
                         profiles = data.frame(contract = c("Month-to-Month", "One Year", "Two Year"),
                                               stringsAsFactors = FALSE)),
  sim_truncated = list(df = sim, truncated = TRUE, etype = "1", covariates = c("x1", "x2", "group"),
                       reference = list(group = "A"),
                       profiles = data.frame(x1 = c(0, 0.5), x2 = c(0, 1), group = c("A", "C"),
                                             stringsAsFactors = FALSE))
)

ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
out <- list(fit = list(), coef = list(), vcov = list(), weights = list(), predict = list(), profiles = list())
for (name in names(cases)) {
  cs <- cases[[name]]
  df <- cs$df
  x <- design(df, cs$covariates, cs$reference)
  terms <- names(x)
  vars <- sprintf("z%d", seq_along(terms))  # syntactic names for the formulas
  names(x) <- vars
  dat <- data.frame(id = df$id, entry = df$entry, time = df$time, fstatus = df$fstatus, x)
  if (cs$truncated) {
    fg <- finegray(Surv(entry, time, fstatus) ~ ., data = dat, etype = cs$etype, id = id)
  } else {
    fg <- finegray(Surv(time, fstatus) ~ ., data = dat[, names(dat) != "entry"], etype = cs$etype, id = id)
  }
  stopifnot(sum(fg$fgstatus) == sum(df$fstatus == cs$etype))

  # the weights of the competing defectors' extended rows, one row per distinct (exit, interval)
  fg_exit <- df$time[match(fg$id, df$id)]
  ext <- fg$fgstart >= fg_exit | fg$fgstop > fg_exit
  ext <- unique(data.frame(exit = fg_exit[ext], start = fg$fgstart[ext], stop = fg$fgstop[ext],
                           weight = fg$fgwt[ext]))
  ext <- ext[order(ext$exit, ext$start), ]
  out$weights[[name]] <- data.frame(case = name, exit = num(ext$exit), start = num(ext$start),
                                    stop = num(ext$stop), weight = num(ext$weight))

  # profiles' design rows with the data's levels
  both <- rbind(df[, cs$covariates, drop = FALSE], cs$profiles)
  px <- design(both, cs$covariates, cs$reference)[(nrow(df) + 1):nrow(both), , drop = FALSE]
  stopifnot(identical(names(px), terms))
  names(px) <- vars
  for (j in seq_len(nrow(cs$profiles))) {
    out$profiles[[paste(name, j)]] <- data.frame(case = name, profile = sprintf("p%d", j),
                                                 variable = names(cs$profiles),
                                                 value = vapply(cs$profiles[j, , drop = FALSE], as.character, ""))
  }

  form <- as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", paste(vars, collapse = " + ")))
  for (ties in c("efron", "breslow")) {
    fit <- coxph(form, data = fg, weights = fgwt, id = id, ties = ties, control = ctl)
    rows <- coxph(form, data = fg, weights = fgwt, ties = ties, control = ctl)  # robust se by row
    stopifnot(max(abs(coef(rows) - coef(fit))) < 1e-12, fit$iter < 100)
    tag <- paste(name, ties)
    out$fit[[tag]] <- data.frame(case = name, ties = ties, n = nrow(df), n_rows = nrow(fg),
                                 n_events = fit$nevent, loglik = num(fit$loglik[2]),
                                 loglik_null = num(fit$loglik[1]), iter = fit$iter)
    out$coef[[tag]] <- data.frame(case = name, ties = ties, term = terms, coef = num(coef(fit)),
                                  std_error = num(sqrt(diag(fit$var))),
                                  naive_std_error = num(sqrt(diag(fit$naive.var))),
                                  row_robust_std_error = num(sqrt(diag(rows$var))))
    for (kind in c("robust", "naive")) {
      v <- if (kind == "robust") fit$var else fit$naive.var
      out$vcov[[paste(tag, kind)]] <- data.frame(case = name, ties = ties, kind = kind,
                                                 row = rep(terms, times = length(terms)),
                                                 col = rep(terms, each = length(terms)), value = num(c(v)))
    }
    sf <- survfit(fit, newdata = px)
    keep <- sf$n.event > 0  # the event times of the cause
    for (j in seq_len(nrow(px))) {
      cumhaz <- as.matrix(sf$cumhaz)[, j]
      surv <- as.matrix(sf$surv)[, j]
      out$predict[[paste(tag, j)]] <- data.frame(case = name, ties = ties, profile = sprintf("p%d", j),
                                                 time = num(sf$time[keep]), cumulative_hazard = num(cumhaz[keep]),
                                                 estimate = num(1 - surv[keep]))
    }
    cat(sprintf("%-16s %-7s n=%d rows=%d events=%d iter=%d coef=%s\n", name, ties, nrow(df), nrow(fg),
                fit$nevent, fit$iter, paste(sprintf("%.6f", coef(fit)), collapse = ",")))
  }
}

write_fixture <- function(parts, file) {
  df <- do.call(rbind, unname(parts))
  write.csv(df, file.path(fx_dir, file), row.names = FALSE, quote = TRUE)
  cat(sprintf("wrote %s (%d rows)\n", file, nrow(df)))
}
for (kind in names(out)) write_fixture(out[[kind]], sprintf("fg_truncated_%s.csv", kind))
cat(sprintf("R %s, survival %s\n", getRversion(), packageVersion("survival")))
