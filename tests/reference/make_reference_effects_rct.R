# Reference values for churnsurv.effects (randomised actions and landmark analyses).
#
# Run from the repository root:
#   Rscript tests/reference/make_reference_effects_rct.R
#
# Writes the inputs (seeded simulations, written here so R and Python read the same rows):
#   tests/reference/inputs/effects_rct_ab.csv     an A/B holdout: id, arm, segment, time, status, cause
#   tests/reference/inputs/effects_rct_offer.csv  a mid-tenure offer: id, time, status, offer_time (NA: never)
# and the fixtures tests/reference/fixtures/effects_rct_*.csv:
#   effects_rct_survival.csv   summary(survfit(Surv(time, status) ~ arm), times) (Greenwood) and the
#                              difference / ratio of survival between arms (normal / log delta method)
#   effects_rct_rmst.csv       print(survfit, rmean = tau) per arm, and the survRM2::rmst2 contrasts, computed
#                              here with the formula of survRM2 (rmst2 is not packaged for Debian): difference
#                              and ratio, intervals and p-values
#   effects_rct_incidence.csv  survfit(Surv(time, factor(cause)) ~ arm) (Aalen-Johansen, infinitesimal
#                              jackknife std.err) at times, and differences / ratios per cause
#   effects_rct_uplift.csv     RMST difference by segment, p-values and p.adjust(method = "holm")
#   effects_rct_tests.csv      survdiff(Surv(time, status) ~ arm) and the cause-specific survdiff
#   effects_rct_landmark.csv   landmark trials stacked (built here independently of Python), pooled
#                              survfit(..., cluster = id, influence = TRUE): survival at the horizon and RMST per
#                              arm and their contrasts, with cluster-robust (infinitesimal jackknife) std errors
#
# Deterministic: RNGkind and seeds pinned; no dates are written.

suppressPackageStartupMessages(library(survival))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
in_dir <- file.path("tests", "reference", "inputs")
out_dir <- file.path("tests", "reference", "fixtures")
if (!dir.exists(in_dir)) stop("run from the repository root")
wcsv <- function(x, name, dir = out_dir) {
  write.csv(x, file.path(dir, name), row.names = FALSE, quote = TRUE)
}
z <- qnorm(0.975)

# ------------------------------------------------------------------ inputs
set.seed(20240613)
n <- 1200
arm <- ifelse(runif(n) < 0.5, "treatment", "control")
segment <- sample(c("north", "south", "west"), n, replace = TRUE)
seg_hr <- c(north = 1.0, south = 0.8, west = 1.2)[segment]
rate_price <- 0.025 * ifelse(arm == "treatment", 0.6 * seg_hr, 1)
rate_service <- 0.015 * ifelse(arm == "treatment", 0.9, 1)
t_price <- rexp(n, rate_price)
t_service <- rexp(n, rate_service)
cens <- 18 + 12 * runif(n)
t_event <- pmin(t_price, t_service)
time <- round(pmin(t_event, cens), 3)   # three decimals: ties are possible and handled exactly
status <- as.integer(t_event <= cens)
cause <- ifelse(status == 1, ifelse(t_price < t_service, "price", "service"), "")
ab <- data.frame(id = seq_len(n), arm = arm, segment = segment, time = time, status = status, cause = cause)
wcsv(ab, "effects_rct_ab.csv", in_dir)

set.seed(20240614)
m <- 800
planned <- ifelse(runif(m) < 0.6, sample(1:8, m, replace = TRUE), NA)
first <- rexp(m, 0.04)
given <- !is.na(planned) & first > planned
after <- planned + rexp(m, 0.04 * 0.6)
t_all <- ifelse(given, after, first)
offer <- data.frame(id = seq_len(m), time = round(pmin(t_all, 36), 3), status = as.integer(t_all <= 36),
                    offer_time = ifelse(given, planned, NA))
wcsv(offer, "effects_rct_offer.csv", in_dir)

# re-read what Python reads (rounded times)
ab <- read.csv(file.path(in_dir, "effects_rct_ab.csv"), stringsAsFactors = FALSE)
offer <- read.csv(file.path(in_dir, "effects_rct_offer.csv"))
times <- c(6, 12, 18)
tau <- 18

contrast <- function(e1, s1, e0, s0) {
  d <- e1 - e0; dse <- sqrt(s1^2 + s0^2)
  r <- e1 / e0; lse <- sqrt((s1 / e1)^2 + (s0 / e0)^2)
  data.frame(difference = d, difference_se = dse, difference_lower = d - z * dse, difference_upper = d + z * dse,
             difference_p = 2 * pnorm(-abs(d / dse)), ratio = r, ratio_se = r * lse,
             ratio_lower = r * exp(-z * lse), ratio_upper = r * exp(z * lse), ratio_p = 2 * pnorm(-abs(log(r) / lse)))
}

# ------------------------------------------------------------------ survival at times
fit <- survfit(Surv(time, status) ~ arm, data = ab)
s <- summary(fit, times = times)
arms <- sub("arm=", "", as.character(s$strata))
sv <- data.frame(arm = arms, time = s$time, estimate = s$surv, std_error = s$std.err,
                 ci_lower = s$lower, ci_upper = s$upper)
c0 <- sv[sv$arm == "control", ]; c1 <- sv[sv$arm == "treatment", ]
sv_c <- cbind(time = c1$time, contrast(c1$estimate, c1$std_error, c0$estimate, c0$std_error))
wcsv(merge(sv, sv_c, by = "time", all.x = TRUE), "effects_rct_survival.csv")

# ------------------------------------------------------------------ RMST: print(survfit, rmean=) and rmst2's formula
tab <- summary(fit, rmean = tau)$table
rm <- data.frame(arm = sub("arm=", "", rownames(tab)), estimate = tab[, "rmean"], std_error = tab[, "se(rmean)"])
rmst2_arm <- function(time, status, tau) {  # survRM2:::rmst1 (Uno et al.): KM area and its Greenwood variance
  ft <- survfit(Surv(time, status) ~ 1)
  idx <- ft$time <= tau
  wk_time <- sort(c(ft$time[idx], tau))
  wk_surv <- ft$surv[idx]; wk_n_risk <- ft$n.risk[idx]; wk_n_event <- ft$n.event[idx]
  time_diff <- diff(c(0, wk_time))
  areas <- time_diff * c(1, wk_surv)
  rmst <- sum(areas)
  wk_var <- ifelse((wk_n_risk - wk_n_event) == 0, 0, wk_n_event / (wk_n_risk * (wk_n_risk - wk_n_event)))
  wk_var <- c(wk_var, 0)
  rmst_var <- sum(cumsum(rev(areas[-1]))^2 * rev(wk_var)[-1])
  c(rmst = rmst, se = sqrt(rmst_var))
}
r1 <- with(ab[ab$arm == "treatment", ], rmst2_arm(time, status, tau))
r0 <- with(ab[ab$arm == "control", ], rmst2_arm(time, status, tau))
stopifnot(abs(r1["rmst"] - rm$estimate[rm$arm == "treatment"]) < 1e-9,
          abs(r1["se"] - rm$std_error[rm$arm == "treatment"]) < 1e-9)
rm$rmst2_estimate <- c(r0["rmst"], r1["rmst"])[match(rm$arm, c("control", "treatment"))]
rm$rmst2_std_error <- c(r0["se"], r1["se"])[match(rm$arm, c("control", "treatment"))]
rm$tau <- tau
wcsv(cbind(rm, contrast(r1["rmst"], r1["se"], r0["rmst"], r0["se"])[c(1, 1), ]), "effects_rct_rmst.csv")

# ------------------------------------------------------------------ cumulative incidence (Aalen-Johansen)
ab$state <- factor(ifelse(ab$status == 1, ab$cause, "censor"), levels = c("censor", "price", "service"))
aj <- survfit(Surv(time, state) ~ arm, data = ab)
sa <- summary(aj, times = times)
inc <- list()
for (k in c("price", "service")) {
  j <- match(k, sa$states)
  inc[[k]] <- data.frame(cause = k, arm = sub("arm=", "", as.character(sa$strata)), time = sa$time,
                         estimate = sa$pstate[, j], std_error = sa$std.err[, j])
}
inc <- do.call(rbind, inc)
out <- list()
for (k in c("price", "service")) {
  a0 <- inc[inc$cause == k & inc$arm == "control", ]; a1 <- inc[inc$cause == k & inc$arm == "treatment", ]
  out[[k]] <- cbind(cause = k, time = a1$time, contrast(a1$estimate, a1$std_error, a0$estimate, a0$std_error))
}
wcsv(merge(inc, do.call(rbind, out), by = c("cause", "time"), all.x = TRUE), "effects_rct_incidence.csv")

# ------------------------------------------------------------------ uplift by segment
up <- list()
for (g in sort(unique(ab$segment))) {
  a1 <- with(ab[ab$segment == g & ab$arm == "treatment", ], rmst2_arm(time, status, tau))
  a0 <- with(ab[ab$segment == g & ab$arm == "control", ], rmst2_arm(time, status, tau))
  d <- a1["rmst"] - a0["rmst"]; se <- sqrt(a1["se"]^2 + a0["se"]^2)
  up[[g]] <- data.frame(segment = g, estimate = d, std_error = se, p_value = 2 * pnorm(-abs(d / se)))
}
up <- do.call(rbind, up)
up$p_holm <- p.adjust(up$p_value, "holm")
up$p_bh <- p.adjust(up$p_value, "BH")
m_seg <- nrow(up)
zb <- qnorm(1 - 0.05 / (2 * m_seg))
up$ci_lower_bonferroni <- up$estimate - zb * up$std_error
up$ci_upper_bonferroni <- up$estimate + zb * up$std_error
w <- 1 / up$std_error^2
q <- sum(w * (up$estimate - sum(w * up$estimate) / sum(w))^2)
up$cochran_q <- q
up$cochran_p <- pchisq(q, m_seg - 1, lower.tail = FALSE)
wcsv(up, "effects_rct_uplift.csv")

# ------------------------------------------------------------------ tests
sd_all <- survdiff(Surv(time, status) ~ arm, data = ab)
tests <- data.frame(cause = "", statistic = sd_all$chisq)
for (k in c("price", "service")) {
  sdk <- survdiff(Surv(time, status == 1 & cause == k) ~ arm, data = ab)
  tests <- rbind(tests, data.frame(cause = k, statistic = sdk$chisq))
}
tests$p_value <- pchisq(tests$statistic, 1, lower.tail = FALSE)
wcsv(tests, "effects_rct_tests.csv")

# ------------------------------------------------------------------ landmark trials, stacked
landmarks <- 1:8
horizon <- 12
stack_trials <- function(strategy) {
  rows <- list()
  for (s in landmarks) {
    a <- offer$offer_time
    eligible <- offer$time > s & (is.na(a) | a >= s)
    treated <- eligible & !is.na(a) & a >= s & a < s + 1
    d <- offer[eligible, ]
    tr <- treated[eligible]
    t_f <- pmin(d$time, s + horizon) - s
    ev <- d$status == 1 & d$time <= s + horizon
    if (strategy == "per_protocol") {
      sw <- !tr & !is.na(d$offer_time) & (d$offer_time - s < t_f)
      t_f[sw] <- d$offer_time[sw] - s
      ev[sw] <- FALSE
    }
    rows[[length(rows) + 1]] <- data.frame(id = d$id, landmark = s, arm = ifelse(tr, "treated", "control"),
                                           time = t_f, event = as.integer(ev))
  }
  do.call(rbind, rows)
}
lm_out <- list()
for (strategy in c("itt", "per_protocol")) {
  st <- stack_trials(strategy)
  f <- survfit(Surv(time, event) ~ arm, data = st, cluster = id, influence = TRUE)
  strata_names <- sub("arm=", "", names(f$strata))
  ends <- cumsum(f$strata); starts <- ends - f$strata + 1
  inf_s <- list(); inf_r <- list(); est_s <- c(); est_r <- c()
  all_ids <- sort(unique(st$id))
  for (k in seq_along(strata_names)) {
    tt <- f$time[starts[k]:ends[k]]; ss <- f$surv[starts[k]:ends[k]]
    inf <- f$influence.surv[[k]]             # clusters x curve times (influence on S)
    full <- matrix(0, length(all_ids), ncol(inf)); full[match(as.integer(rownames(inf)), all_ids), ] <- inf
    j <- max(which(tt <= horizon))
    est_s[strata_names[k]] <- ss[j]
    inf_s[[strata_names[k]]] <- full[, j]
    # RMST up to horizon: area of the step curve; its influence is the same area of the influence curves
    keep <- which(tt <= horizon)
    grid <- c(0, tt[keep]); width <- diff(c(grid, horizon))
    est_r[strata_names[k]] <- sum(width * c(1, ss[keep]))
    inf_r[[strata_names[k]]] <- as.vector(cbind(0, full[, keep, drop = FALSE]) %*% width)
  }
  se_fit <- summary(f, times = horizon)$std.err
  stopifnot(max(abs(sqrt(c(sum(inf_s$control^2), sum(inf_s$treated^2))) - se_fit)) < 1e-10)
  dse <- sqrt(sum((inf_s$treated - inf_s$control)^2))
  lse <- sqrt(sum((inf_s$treated / est_s["treated"] - inf_s$control / est_s["control"])^2))
  rdse <- sqrt(sum((inf_r$treated - inf_r$control)^2))
  rlse <- sqrt(sum((inf_r$treated / est_r["treated"] - inf_r$control / est_r["control"])^2))
  lm_out[[strategy]] <- data.frame(
    strategy = strategy, quantity = rep(c("survival", "rmst"), each = 4),
    measure = rep(c("control", "treated", "difference", "ratio"), 2),
    estimate = c(est_s["control"], est_s["treated"], est_s["treated"] - est_s["control"],
                 est_s["treated"] / est_s["control"],
                 est_r["control"], est_r["treated"], est_r["treated"] - est_r["control"],
                 est_r["treated"] / est_r["control"]),
    std_error = c(sqrt(sum(inf_s$control^2)), sqrt(sum(inf_s$treated^2)), dse,
                  est_s["treated"] / est_s["control"] * lse,
                  sqrt(sum(inf_r$control^2)), sqrt(sum(inf_r$treated^2)), rdse,
                  est_r["treated"] / est_r["control"] * rlse),
    n_rows = nrow(st))
}
wcsv(do.call(rbind, lm_out), "effects_rct_landmark.csv")

writeLines(c(paste("R", R.version$major, R.version$minor, sep = "."),
             paste("survival", as.character(packageVersion("survival")))),
           file.path(out_dir, "effects_rct_VERSIONS.txt"))
