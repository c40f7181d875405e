# Reference values for churnsurv.models.CoxPH (tests/models/test_coxph.py): survival::coxph fits with Efron and
# Breslow ties, strata, left truncation, case weights, cluster-robust variances, time-varying covariates from
# spells and time-varying effects (survSplit); survfit.coxph for profiles; cox.zph (survival 3.x score test).
# Run from the repository root: Rscript tests/reference/make_reference_coxph_full.R
# Reads tests/reference/inputs/maven_telco.csv; writes tests/reference/inputs/sim_spells.csv (seeded simulation)
# and tests/reference/fixtures/coxph_full_*.csv. Deterministic: pinned RNG and seed, no dates.
suppressPackageStartupMessages(library(survival))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20261206)
fix <- "tests/reference/fixtures"
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
w17 <- function(df, path) write.csv(df, path, row.names = FALSE, quote = TRUE, na = "")
fmt <- function(df) { for (k in names(df)) if (is.double(df[[k]])) df[[k]] <- sprintf("%.17g", df[[k]]); df }

# ---------------------------------------------------------------- the spells input (time-varying covariate)
n <- 800
plan <- sample(c("A", "B", "C"), n, replace = TRUE)
x <- round(rnorm(n), 3)
offer_at <- ifelse(runif(n) < 0.5, sample(1:24, n, replace = TRUE), Inf)
lp0 <- -3 + 0.5 * (plan == "B") - 0.4 * (plan == "C") + 0.3 * x
h0 <- exp(lp0); h1 <- exp(lp0 - 0.7)
e <- rexp(n)
t_event <- ifelse(e < h0 * offer_at, e / h0, offer_at + (e - h0 * pmin(offer_at, 1e9)) / h1)
t_event <- ceiling(t_event)
cens <- sample(12:48, n, replace = TRUE)
entry <- ifelse(runif(n) < 0.3, sample(1:6, n, replace = TRUE), 0)
keep <- t_event > entry & cens > entry
time <- pmin(t_event, cens); status <- as.integer(t_event <= cens)
weight <- sample(c(0.5, 1, 2.5), n, replace = TRUE)
rows <- list()
for (i in which(keep)) {
  o <- offer_at[i]
  if (o > entry[i] && o < time[i]) {
    rows[[length(rows) + 1]] <- data.frame(id = i, start = entry[i], stop = o, event = 0L, plan = plan[i], x = x[i],
                                           offer = 0L, weight = weight[i])
    rows[[length(rows) + 1]] <- data.frame(id = i, start = o, stop = time[i], event = status[i], plan = plan[i],
                                           x = x[i], offer = 1L, weight = weight[i])
  } else {
    rows[[length(rows) + 1]] <- data.frame(id = i, start = entry[i], stop = time[i], event = status[i],
                                           plan = plan[i], x = x[i], offer = as.integer(o <= entry[i]),
                                           weight = weight[i])
  }
}
sp <- do.call(rbind, rows)
write.csv(sp, "tests/reference/inputs/sim_spells.csv", row.names = FALSE)
sp <- read.csv("tests/reference/inputs/sim_spells.csv", stringsAsFactors = FALSE)

mv <- read.csv("tests/reference/inputs/maven_telco.csv", stringsAsFactors = FALSE)
mv$competitor <- as.integer(mv$event == 1 & mv$cause %in% "Competitor")
mv_split <- survSplit(Surv(entry, time, event) ~ contract + monthly_charge + internet_service + id, data = mv,
                      cut = c(12, 24), episode = "window")
mv_split$window <- factor(mv_split$window)
mv_split$one_year <- as.integer(mv_split$contract == "One Year")
mv_split$two_year <- as.integer(mv_split$contract == "Two Year")

fits <- list(
  maven_efron = coxph(Surv(entry, time, event) ~ contract + monthly_charge, data = mv, ties = "efron", control = ctl),
  maven_breslow = coxph(Surv(entry, time, event) ~ contract + monthly_charge, data = mv, ties = "breslow",
                        control = ctl),
  maven_naive_efron = coxph(Surv(time, event) ~ contract + monthly_charge, data = mv, ties = "efron", control = ctl),
  maven_strata_competitor = coxph(Surv(entry, time, competitor) ~ contract + monthly_charge + strata(internet_service),
                                  data = mv, ties = "efron", control = ctl),
  spells_efron = coxph(Surv(start, stop, event) ~ plan + x + offer, data = sp, ties = "efron", cluster = id,
                       control = ctl),
  spells_breslow_weighted = coxph(Surv(start, stop, event) ~ plan + x + offer, data = sp, ties = "breslow",
                                  weights = weight, cluster = id, control = ctl),
  spells_efron_weighted_strata = coxph(Surv(start, stop, event) ~ x + offer + strata(plan), data = sp,
                                       ties = "efron", weights = weight, cluster = id, control = ctl),
  maven_windows = coxph(Surv(entry, time, event) ~ contract + monthly_charge:window, data = mv_split,
                        ties = "efron", control = ctl)
)

fit_rows <- list(); coef_rows <- list(); zph_rows <- list(); vc_rows <- list()
for (nm in names(fits)) {
  f <- fits[[nm]]
  cc <- concordance(f)
  fit_rows[[nm]] <- data.frame(case = nm, ties = f$method, loglik = f$loglik[2], loglik_null = f$loglik[1],
                               concordance = unname(f$concordance["concordance"]),
                               concordance_check = cc$concordance, n = f$n, n_events = f$nevent, iter = f$iter)
  rob <- if (is.null(f$naive.var)) rep(NA_real_, length(coef(f))) else sqrt(diag(f$var))
  naive <- if (is.null(f$naive.var)) sqrt(diag(f$var)) else sqrt(diag(f$naive.var))
  coef_rows[[nm]] <- data.frame(case = nm, r_term = names(coef(f)), coef = unname(coef(f)), std_error = naive,
                                robust_std_error = rob)
  if (!grepl("windows", nm)) {
    z <- cox.zph(f)
    zph_rows[[nm]] <- data.frame(case = nm, term = rownames(z$table), chisq = z$table[, "chisq"],
                                 df = z$table[, "df"], p = z$table[, "p"])
  }
}
w17(fmt(do.call(rbind, fit_rows)), file.path(fix, "coxph_full_fit.csv"))
w17(fmt(do.call(rbind, coef_rows)), file.path(fix, "coxph_full_coef.csv"))
w17(fmt(do.call(rbind, zph_rows)), file.path(fix, "coxph_full_zph.csv"))

# ---------------------------------------------------------------- predicted survival of profiles (survfit.coxph)
surv_rows <- list()
add_surv <- function(nm, newdata, profile_names) {
  f <- fits[[nm]]
  s <- survfit(f, newdata = newdata, conf.type = "log-log", conf.int = 0.95)
  ss <- summary(s, times = c(1, 6, 12, 24, 36, 60, 72), extend = TRUE)
  st <- if (is.null(ss$strata)) rep("(all)", length(ss$time)) else as.character(ss$strata)
  nt <- length(ss$time)
  cols <- function(m) matrix(m, nrow = nt)
  for (j in seq_along(profile_names)) {
    surv_rows[[length(surv_rows) + 1]] <<- data.frame(
      case = nm, profile = profile_names[j], strata = st, time = ss$time, surv = cols(ss$surv)[, j],
      cumhaz = cols(ss$cumhaz)[, j], std_err = cols(ss$std.err)[, j] / cols(ss$surv)[, j],
      lower = cols(ss$lower)[, j], upper = cols(ss$upper)[, j])
  }
}
prof <- data.frame(contract = c("Month-to-Month", "Two Year"), monthly_charge = c(70, 20))
add_surv("maven_efron", prof, c("p1", "p2"))
add_surv("maven_breslow", prof, c("p1", "p2"))
add_surv("maven_strata_competitor", cbind(prof[1, ], internet_service = "Yes"), "p1")
add_surv("spells_efron", data.frame(plan = c("A", "C"), x = c(0, 1), offer = c(0, 1)), c("p1", "p2"))
w17(fmt(do.call(rbind, surv_rows)), file.path(fix, "coxph_full_surv.csv"))
