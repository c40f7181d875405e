#!/usr/bin/env Rscript
# R reference fixtures for churnsurv.nonparametric.logrank and churnsurv.nonparametric.smoothing that make_reference.R does not
# already cover (its logrank_*.csv have survdiff rho = 0 / 1, stratified, truncated and trend with
# scores 1..k).
#
# Run from the repository root (after tests/reference/make_inputs.R):
#     Rscript tests/reference/make_reference_compare_smooth.R
#
# Reads  tests/reference/inputs/*.csv
# Writes tests/reference/fixtures/compare_*.csv and tests/reference/fixtures/smooth_*.csv
#
# Base R + survival only. Numbers are written with "%.17g" (round-trip doubles); NA is an empty field.
#
# Files
#   compare_tests.csv     case, dataset, call, weights, rho, gamma, statistic, dof, p_value, o_minus_e (";"-joined
#                         by group level), variance (";"-joined diagonal)
#       Weighted log-rank statistics that survdiff cannot give (Fleming-Harrington with gamma > 0,
#       Gehan-Breslow w = n, Tarone-Ware w = sqrt(n)), from weighted_logrank() below: a literal loop over
#       the distinct event times with the risk set entry < t <= time. weighted_logrank() is first checked
#       to reproduce survdiff (chisq, obs, exp, var to 1e-10) with rho = 0 and 1 on ibm and sim_continuous.
#   compare_trend.csv     case, dataset, scores (";"-joined level=score), statistic, p_value
#       Trend test with non-default scores, from survdiff's totals: (c'(O - E))^2 / c'Vc, 1 df.
#   compare_pairwise.csv  case, dataset, rho, group_a, group_b, statistic, p_value, p_holm, p_bonferroni, p_bh
#       survdiff on each pair of levels (subset of the data); p.adjust(p, "holm" / "bonferroni" / "BH").
#       For maven_truncated, weighted_logrank() on each pair (survdiff rejects (start, stop] data).
#   compare_coxph_score.csv  case, dataset, call, score
#       Score test of coxph(Surv(entry, time, event) ~ g, ties = "breslow", iter.max = 0): the package check
#       of the left-truncated risk sets. With Breslow ties the score test is the log-rank statistic with the
#       binomial variance sum_t d_t n_gt/n_t (delta_gh - n_ht/n_t) (no (n - d)/(n - 1) factor); on data
#       without ties (sim_continuous with a derived entry) it IS the log-rank statistic.
#       (ties = "exact" would give the hypergeometric variance but does not finish on these tied data.)
#   smooth_muhaz_literal.csv  case, kernel, b_cor, bandwidth, min_time, max_time, time, estimate
#       muhaz itself is not in Debian and CRAN is out of reach, so this is a literal R transcription of
#       what muhaz's Fortran routine `hazden` computes for a FIXED bandwidth (muhaz(times, delta,
#       bw.grid = b, bw.method = "global", b.cor = ..., kern = ..., min.time = 0, max.time = M): with one
#       bandwidth in bw.grid it skips the IMSE search and evaluates hazden on the 101-point grid):
#         h(z) = (1/b) sum_{i: delta_i = 1, z - b < x_i < z + b} K(u_i) / (n - i + 1),  u_i = (z - x_i)/b,
#       x sorted, K the Mueller-Wang boundary kernel of Table 1 (K_q(u) for z < min + b, K_q(-u) with only
#       x_i <= max for z > max - b, interior kernel otherwise), negative values set to 0.
#       On sim_continuous (no ties) 1/(n - i + 1) is the Nelson-Aalen increment dN/Y.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5.0")

in_dir <- file.path("tests", "reference", "inputs")
out_dir <- file.path("tests", "reference", "fixtures")
if (!dir.exists(in_dir)) stop("run from the repository root, after Rscript tests/reference/make_inputs.R")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

fmt_col <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.numeric(x)) {
    out <- sprintf("%.17g", as.numeric(x))
    out[is.na(x)] <- ""
    return(out)
  }
  x <- as.character(x)
  bad <- !is.na(x) & grepl("[,\"\n]", x)
  x[bad] <- paste0("\"", gsub("\"", "\"\"", x[bad]), "\"")
  x[is.na(x)] <- ""
  x
}

write_fixture <- function(df, name) {
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  out <- as.data.frame(lapply(df, fmt_col), stringsAsFactors = FALSE, optional = TRUE)
  names(out) <- names(df)
  con <- file(file.path(out_dir, name), open = "wb")
  writeLines(paste(names(out), collapse = ","), con)
  writeLines(do.call(paste, c(unname(as.list(out)), sep = ",")), con)
  close(con)
  cat(sprintf("wrote %-28s %5d rows x %2d cols\n", name, nrow(df), ncol(df)))
}

check_equal <- function(a, b, what, tol = 1e-10) {
  ok <- isTRUE(all.equal(as.numeric(a), as.numeric(b), tolerance = tol, check.attributes = FALSE))
  if (!ok) stop("cross-check failed: ", what)
}

ibm <- read.csv(file.path(in_dir, "ibm_telco.csv"), stringsAsFactors = FALSE)
maven <- read.csv(file.path(in_dir, "maven_telco.csv"), stringsAsFactors = FALSE, na.strings = "")
sim_co <- read.csv(file.path(in_dir, "sim_continuous.csv"), stringsAsFactors = FALSE)
ibm$entry <- 0

# ------------------------------------------------------------------------------------------------
# weighted_logrank: literal loop, risk set entry < t <= time (entry 0 = observed from the origin)
#   weights: "fh" w = S(t-)^rho (1 - S(t-))^gamma (S pooled KM of the stratum, left-continuous)
#            "gehan" w = n_t;  "tarone" w = sqrt(n_t)
# ------------------------------------------------------------------------------------------------
weighted_logrank <- function(entry, time, event, group, strata = NULL, weights = "fh", rho = 0, gamma = 0) {
  group <- factor(group)
  k <- nlevels(group)
  gi <- as.integer(group)
  if (is.null(strata)) strata <- rep(1L, length(time))
  strata <- factor(strata)
  O <- E <- rep(0, k)
  V <- matrix(0, k, k)
  for (s in levels(strata)) {
    in_s <- strata == s
    S <- 1
    for (t in sort(unique(time[in_s & event == 1]))) {
      risk <- in_s & (entry < t | entry == 0) & time >= t
      dead <- in_s & time == t & event == 1
      nj <- as.numeric(tabulate(gi[risk], k))
      dj <- as.numeric(tabulate(gi[dead], k))
      n <- sum(nj)
      d <- sum(dj)
      w <- switch(weights, fh = S^rho * (1 - S)^gamma, gehan = n, tarone = sqrt(n))
      O <- O + w * dj
      E <- E + w * d * nj / n
      if (n > 1) {
        V <- V + w^2 * d * (n - d) / (n - 1) * (diag(nj / n, k) - outer(nj, nj) / n^2)
      }
      S <- S * (1 - d / n)
    }
  }
  keep <- E > 0
  u <- (O - E)[keep][-1]
  chisq <- sum(solve(V[keep, keep][-1, -1, drop = FALSE], u) * u)
  list(obs = O, exp = E, var = V, chisq = chisq, df = sum(keep) - 1,
       p = pchisq(chisq, sum(keep) - 1, lower.tail = FALSE), levels = levels(group))
}

# the literal loop reproduces survdiff (rho = 0 / 1; unstratified and stratified)
for (rho in c(0, 1)) {
  for (spec in list(list(d = ibm, g = "contract", s = NULL), list(d = ibm, g = "contract", s = "internet_service"),
                    list(d = sim_co, g = "group", s = NULL))) {
    d <- spec$d
    f <- if (is.null(spec$s)) paste("Surv(time, event) ~", spec$g) else
      paste("Surv(time, event) ~", spec$g, "+ strata(", spec$s, ")")
    sd <- survdiff(as.formula(f), data = d, rho = rho)
    man <- weighted_logrank(rep(0, nrow(d)), d$time, d$event, d[[spec$g]],
                            if (is.null(spec$s)) NULL else d[[spec$s]], "fh", rho, 0)
    what <- paste(f, "rho", rho)
    check_equal(man$chisq, sd$chisq, paste(what, "chisq"))
    check_equal(man$obs, if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs, paste(what, "obs"))
    check_equal(man$exp, if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp, paste(what, "exp"))
    check_equal(man$var, sd$var, paste(what, "var"))
  }
}

datasets <- list(ibm = ibm, maven_truncated = maven, maven_naive = transform(maven, entry = 0), sim_continuous = sim_co)
specs <- list(
  list(case = "ibm_fh_0_1", ds = "ibm", g = "contract", s = NULL, w = "fh", rho = 0, gamma = 1),
  list(case = "ibm_fh_1_1", ds = "ibm", g = "contract", s = NULL, w = "fh", rho = 1, gamma = 1),
  list(case = "ibm_fh_0.5_2_strat", ds = "ibm", g = "contract", s = "internet_service", w = "fh", rho = 0.5, gamma = 2),
  list(case = "ibm_gehan", ds = "ibm", g = "contract", s = NULL, w = "gehan", rho = NA, gamma = NA),
  list(case = "ibm_tarone", ds = "ibm", g = "contract", s = NULL, w = "tarone", rho = NA, gamma = NA),
  list(case = "maven_truncated_fh_0_1", ds = "maven_truncated", g = "contract", s = NULL, w = "fh", rho = 0, gamma = 1),
  list(case = "maven_truncated_gehan_strat", ds = "maven_truncated", g = "contract", s = "internet_service",
       w = "gehan", rho = NA, gamma = NA),
  list(case = "maven_naive_tarone", ds = "maven_naive", g = "contract", s = NULL, w = "tarone", rho = NA, gamma = NA),
  list(case = "sim_continuous_fh_2_0.5", ds = "sim_continuous", g = "group", s = NULL, w = "fh", rho = 2, gamma = 0.5)
)
rows <- list()
for (sp in specs) {
  d <- datasets[[sp$ds]]
  r <- weighted_logrank(d$entry, d$time, d$event, d[[sp$g]], if (is.null(sp$s)) NULL else d[[sp$s]],
                        sp$w, ifelse(is.na(sp$rho), 0, sp$rho), ifelse(is.na(sp$gamma), 0, sp$gamma))
  call <- sprintf("weighted_logrank(entry, time, event, %s%s, weights = \"%s\"%s)", sp$g,
                  if (is.null(sp$s)) "" else paste0(", strata = ", sp$s), sp$w,
                  if (is.na(sp$rho)) "" else sprintf(", rho = %g, gamma = %g", sp$rho, sp$gamma))
  rows[[length(rows) + 1]] <- data.frame(
    case = sp$case, dataset = sp$ds, call = call, weights = sp$w, rho = sp$rho, gamma = sp$gamma,
    statistic = r$chisq, dof = r$df, p_value = r$p,
    o_minus_e = paste(sprintf("%.17g", r$obs - r$exp), collapse = ";"),
    variance = paste(sprintf("%.17g", diag(r$var)), collapse = ";"), stringsAsFactors = FALSE)
}
write_fixture(do.call(rbind, rows), "compare_tests.csv")

# ------------------------------------------------------------------------------------------------
# trend test with given scores, from survdiff's totals
# ------------------------------------------------------------------------------------------------
trend_from <- function(o, e, V, sc) {
  u <- sum(sc * (o - e))
  chisq <- u^2 / drop(t(sc) %*% V %*% sc)
  c(chisq, pchisq(chisq, 1, lower.tail = FALSE))
}
trows <- list()
sd <- survdiff(Surv(time, event) ~ contract, data = ibm)
for (sc in list(c(0, 12, 24), c(3, 2, 1))) {
  r <- trend_from(sd$obs, sd$exp, sd$var, sc)
  trows[[length(trows) + 1]] <- data.frame(case = "ibm_trend", dataset = "ibm",
    scores = paste(sprintf("%s=%g", levels(factor(ibm$contract)), sc), collapse = ";"),
    statistic = r[1], p_value = r[2], stringsAsFactors = FALSE)
}
sd <- survdiff(Surv(time, event) ~ contract + strata(internet_service), data = ibm, rho = 1)
r <- trend_from(rowSums(sd$obs), rowSums(sd$exp), sd$var, c(1, 12, 24))
trows[[length(trows) + 1]] <- data.frame(case = "ibm_trend_strat_rho1", dataset = "ibm",
  scores = paste(sprintf("%s=%g", levels(factor(ibm$contract)), c(1, 12, 24)), collapse = ";"),
  statistic = r[1], p_value = r[2], stringsAsFactors = FALSE)
m <- weighted_logrank(maven$entry, maven$time, maven$event, maven$contract)
r <- trend_from(m$obs, m$exp, m$var, c(1, 12, 24))
trows[[length(trows) + 1]] <- data.frame(case = "maven_truncated_trend", dataset = "maven_truncated",
  scores = paste(sprintf("%s=%g", m$levels, c(1, 12, 24)), collapse = ";"),
  statistic = r[1], p_value = r[2], stringsAsFactors = FALSE)
write_fixture(do.call(rbind, trows), "compare_trend.csv")

# ------------------------------------------------------------------------------------------------
# pairwise comparisons + p.adjust
# ------------------------------------------------------------------------------------------------
prows <- list()
pairwise <- function(case, ds, d, g, rho, truncated) {
  lv <- sort(unique(d[[g]]))
  pr <- combn(lv, 2)
  st <- pv <- numeric(ncol(pr))
  for (j in seq_len(ncol(pr))) {
    sub <- d[d[[g]] %in% pr[, j], ]
    if (truncated) {
      r <- weighted_logrank(sub$entry, sub$time, sub$event, sub[[g]], weights = "fh", rho = rho)
      st[j] <- r$chisq; pv[j] <- r$p
    } else {
      r <- survdiff(as.formula(paste("Surv(time, event) ~", g)), data = sub, rho = rho)
      st[j] <- r$chisq; pv[j] <- pchisq(r$chisq, 1, lower.tail = FALSE)
    }
  }
  data.frame(case = case, dataset = ds, rho = rho, group_a = pr[1, ], group_b = pr[2, ], statistic = st,
             p_value = pv, p_holm = p.adjust(pv, "holm"), p_bonferroni = p.adjust(pv, "bonferroni"),
             p_bh = p.adjust(pv, "BH"), stringsAsFactors = FALSE)
}
prows[[1]] <- pairwise("ibm_pairwise_rho0", "ibm", ibm, "contract", 0, FALSE)
prows[[2]] <- pairwise("ibm_pairwise_rho1", "ibm", ibm, "contract", 1, FALSE)
prows[[3]] <- pairwise("maven_truncated_pairwise_rho0", "maven_truncated", maven, "contract", 0, TRUE)
prows[[4]] <- pairwise("sim_continuous_pairwise_rho0", "sim_continuous", sim_co, "group", 0, FALSE)
write_fixture(do.call(rbind, prows), "compare_pairwise.csv")

# ------------------------------------------------------------------------------------------------
# coxph score tests (Breslow ties) on left-truncated data
#   sim_continuous_entry: entry = round(time * (id %% 5) / 10, 6), i.e. 0 to 40% of the exit time
#   (no tied times, so the Breslow score test equals the log-rank test)
# ------------------------------------------------------------------------------------------------
sim_en <- sim_co
sim_en$entry <- round(sim_en$time * (sim_en$id %% 5) / 10, 6)
stopifnot(all(sim_en$time > sim_en$entry | sim_en$entry == 0), !anyDuplicated(sim_en$time))
ctl <- coxph.control(iter.max = 0)
c1 <- coxph(Surv(entry, time, event) ~ contract, data = maven, ties = "breslow", control = ctl)
c2 <- coxph(Surv(entry, time, event) ~ group, data = sim_en, ties = "breslow", control = ctl)
c3 <- coxph(Surv(time, event) ~ contract, data = ibm, ties = "breslow", control = ctl)
# no ties: the Breslow score test is the log-rank statistic (literal loop with truncated risk sets)
check_equal(c2$score, weighted_logrank(sim_en$entry, sim_en$time, sim_en$event, sim_en$group)$chisq,
            "coxph breslow score = log-rank on untied truncated data", tol = 1e-8)
write_fixture(data.frame(
  case = c("maven_truncated_breslow", "sim_continuous_entry_breslow", "ibm_breslow"),
  dataset = c("maven_truncated", "sim_continuous_entry", "ibm"),
  call = c("coxph(Surv(entry, time, event) ~ contract, ties = 'breslow', iter.max = 0)$score",
           "coxph(Surv(entry, time, event) ~ group, ties = 'breslow', iter.max = 0)$score; entry = round(time * (id %% 5) / 10, 6)",
           "coxph(Surv(time, event) ~ contract, ties = 'breslow', iter.max = 0)$score"),
  score = c(c1$score, c2$score, c3$score), stringsAsFactors = FALSE), "compare_coxph_score.csv")

# ------------------------------------------------------------------------------------------------
# literal muhaz hazden (fixed bandwidth), Mueller & Wang (1994) Table 1 boundary kernels
# ------------------------------------------------------------------------------------------------
mw_kernel <- function(q, x, kern) {
  if (kern == "epanechnikov") {
    if (q == 1) return(0.75 * (1 - x^2))
    return(12 * (x + 1) / (1 + q)^4 * (0.5 * (3 * q^2 - 2 * q + 1) + x * (1 - 2 * q)))
  }
  # biweight (muhaz "biquadratic")
  if (q == 1) return(15 * (1 - x^2) * (1 - x^2) / 16)
  60 * (x + 1)^2 * (q - x) / (1 + q)^6 * (2 * q^2 - 2 * q + 1 + x * (2 - 3 * q))
}

hazden_literal <- function(times, delta, z, b, endl, endr, kern, bcor) {
  o <- order(times)
  x <- times[o]
  dl <- delta[o]
  n <- length(x)
  h <- 0
  for (i in seq_len(n)) {
    if (dl[i] != 1 || !(x[i] > z - b) || !(x[i] < z + b || z + b >= x[n])) next
    u <- (z - x[i]) / b
    if (bcor == "none" || (endl + b <= z && z <= endr - b)) {
      k <- mw_kernel(1, u, kern)
    } else if (endl <= z && z < endl + b) {
      k <- mw_kernel((z - endl) / b, u, kern)
    } else if (bcor == "left") {
      k <- mw_kernel(1, u, kern)
    } else {
      q <- (endr - z) / b
      if (-q > u) next
      k <- mw_kernel(q, -u, kern)
    }
    h <- h + k / (n - i + 1)
  }
  max(h / b, 0)
}

srows <- list()
smooth_cases <- list(
  list(case = "sim_continuous_epa_both", kern = "epanechnikov", bcor = "both", b = 6, max = 50),
  list(case = "sim_continuous_biw_both", kern = "biweight", bcor = "both", b = 9, max = 50),
  list(case = "sim_continuous_epa_left", kern = "epanechnikov", bcor = "left", b = 6, max = 50),
  list(case = "sim_continuous_epa_none", kern = "epanechnikov", bcor = "none", b = 4, max = 50)
)
for (sc in smooth_cases) {
  grid <- seq(0, sc$max, length.out = 101)
  est <- vapply(grid, function(z) hazden_literal(sim_co$time, sim_co$event, z, sc$b, 0, sc$max, sc$kern, sc$bcor), 0)
  srows[[length(srows) + 1]] <- data.frame(case = sc$case, kernel = sc$kern, b_cor = sc$bcor, bandwidth = sc$b,
                                           min_time = 0, max_time = sc$max, time = grid, estimate = est,
                                           stringsAsFactors = FALSE)
}
write_fixture(do.call(rbind, srows), "smooth_muhaz_literal.csv")
