# Reference values for churnsurv.models.validation (holdout metrics of survival predictions).
#
# Run from the repository root:  Rscript tests/reference/make_reference_validation.R
# Reads  tests/reference/inputs/maven_telco.csv
# Writes tests/reference/inputs/validation_predictions.csv  (the holdout set and its predictions, so that Python
#        scores exactly the numbers R scored) and tests/reference/fixtures/validation_*.csv.
# Deterministic: RNGkind and the seed are pinned, numbers are written with 17 significant digits, no dates.
suppressPackageStartupMessages({
  library(survival)
  library(riskRegression)
  library(prodlim)
})
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20261206)
options(digits = 17)
here <- "tests/reference"
d <- read.csv(file.path(here, "inputs", "maven_telco.csv"), stringsAsFactors = FALSE)

# --- holdout: a random 60 % trains a Cox model, the other 40 % is scored ----------------------------------------
tr <- sample(nrow(d), round(0.6 * nrow(d)))
train <- d[tr, ]
test <- d[-tr, ]
test <- test[order(test$id), ]
fit <- coxph(Surv(time, event) ~ contract + internet_service + monthly_charge, data = train, ties = "efron")
test$lp <- as.numeric(predict(fit, newdata = test, type = "lp", reference = "zero"))
# a coarse score with many ties in x, to pin the tie handling of the concordance
test$lp_coarse <- round(test$lp, 1)
times <- c(3, 6, 12, 24)
sf <- survfit(fit, newdata = test)
S <- t(summary(sf, times = times, extend = TRUE)$surv)
colnames(S) <- paste0("surv_", times)
# case weights 1..3 for the weighted concordance
test$weight <- sample(1:3, nrow(test), replace = TRUE)
pred <- data.frame(id = test$id, entry = test$entry, time = test$time, event = test$event, cause = test$cause,
                   weight = test$weight, lp = test$lp, lp_coarse = test$lp_coarse, S)
write.csv(pred, file.path(here, "inputs", "validation_predictions.csv"), row.names = FALSE, na = "")
# read back what Python will read, so R scores exactly the written numbers
pred <- read.csv(file.path(here, "inputs", "validation_predictions.csv"), stringsAsFactors = FALSE)
S <- as.matrix(pred[, paste0("surv_", times)])

# --- concordance ---------------------------------------------------------------------------------------------
conc_row <- function(case, score, method, tau, truncated, weighted, cf) {
  data.frame(case = case, score = score, method = method, tau = ifelse(is.null(tau), NA, tau),
             truncated = truncated, weighted = weighted,
             concordance = unname(cf$concordance), std_err = sqrt(unname(cf$var)),
             concordant = unname(cf$count["concordant"]), discordant = unname(cf$count["discordant"]),
             tied_x = unname(cf$count["tied.x"]), tied_y = unname(cf$count["tied.y"]),
             tied_xy = unname(cf$count["tied.xy"]))
}
rows <- list()
for (score in c("lp", "lp_coarse")) {
  for (tau in list(NULL, 24)) {
    tag <- if (is.null(tau)) "" else "_tau24"
    f <- as.formula(paste0("Surv(time, event) ~ ", score))
    cf <- concordance(f, data = pred, reverse = TRUE, ymax = tau)
    rows[[length(rows) + 1]] <- conc_row(paste0(score, "_harrell", tag), score, "harrell", tau, FALSE, FALSE, cf)
    cf <- concordance(f, data = pred, reverse = TRUE, ymax = tau, timewt = "n/G2")
    rows[[length(rows) + 1]] <- conc_row(paste0(score, "_uno", tag), score, "uno", tau, FALSE, FALSE, cf)
  }
  f <- as.formula(paste0("Surv(entry, time, event) ~ ", score))
  cf <- concordance(f, data = pred, reverse = TRUE)
  rows[[length(rows) + 1]] <- conc_row(paste0(score, "_harrell_truncated"), score, "harrell", NULL, TRUE, FALSE, cf)
  f <- as.formula(paste0("Surv(time, event) ~ ", score))
  cf <- concordance(f, data = pred, reverse = TRUE, weights = weight)
  rows[[length(rows) + 1]] <- conc_row(paste0(score, "_harrell_weighted"), score, "harrell", NULL, FALSE, TRUE, cf)
}
write.csv(do.call(rbind, rows), file.path(here, "fixtures", "validation_concordance.csv"), row.names = FALSE,
          na = "")

# --- riskRegression::Score: AUC, Brier (IPCW, marginal KM censoring model), IBS -------------------------------
score_rows <- list()
for (cons in c(FALSE, TRUE)) {
  sc <- Score(list(cox = 1 - S), formula = Hist(time, event) ~ 1, data = pred, times = times,
              metrics = c("auc", "brier"), summary = "ibs", null.model = TRUE, conservative = cons,
              cens.model = "km", se.fit = TRUE)
  a <- as.data.frame(sc$AUC$score)
  b <- as.data.frame(sc$Brier$score)
  score_rows[[length(score_rows) + 1]] <- data.frame(
    conservative = cons, metric = "auc", model = as.character(a$model), time = a$times, estimate = a$AUC,
    std_error = a$se, ci_lower = a$lower, ci_upper = a$upper, ibs = NA)
  score_rows[[length(score_rows) + 1]] <- data.frame(
    conservative = cons, metric = "brier", model = as.character(b$model), time = b$times, estimate = b$Brier,
    std_error = b$se, ci_lower = b$lower, ci_upper = b$upper, ibs = b$IBS)
}
# AUC of the linear predictor itself (one marker for every time): same ranking as 1 - S(t) for a PH model
sc <- Score(list(lp = pred$lp, lp_coarse = pred$lp_coarse), formula = Hist(time, event) ~ 1, data = pred,
            times = times, metrics = "auc", null.model = FALSE, conservative = TRUE, cens.model = "km")
a <- as.data.frame(sc$AUC$score)
score_rows[[length(score_rows) + 1]] <- data.frame(
  conservative = TRUE, metric = "auc", model = as.character(a$model), time = a$times, estimate = a$AUC,
  std_error = a$se, ci_lower = a$lower, ci_upper = a$upper, ibs = NA)
write.csv(do.call(rbind, score_rows), file.path(here, "fixtures", "validation_score.csv"), row.names = FALSE,
          na = "")

# --- censoring weights: prodlim reverse KM, G(t) at the times and G(T_i-) per subject ---------------------------
cfit <- prodlim(Hist(time, event) ~ 1, data = pred, reverse = TRUE)
w <- data.frame(id = pred$id, G_subject_minus = predictSurvIndividual(cfit, lag = 1))
for (k in seq_along(times)) w[[paste0("G_", times[k])]] <- predict(cfit, times = times[k])
write.csv(w, file.path(here, "fixtures", "validation_censoring_weights.csv"), row.names = FALSE, na = "")

# --- calibration at the horizon 12: deciles of predicted risk, KM observed risk; pseudo-value slope ---------------
h <- 12
risk <- 1 - pred$surv_12
brks <- quantile(risk, probs = seq(0, 1, 0.1), type = 7)
grp <- cut(risk, breaks = unique(brks), include.lowest = TRUE, labels = FALSE)
cal <- list()
for (g in sort(unique(grp))) {
  sub <- pred[grp == g, ]
  km <- survfit(Surv(time, event) ~ 1, data = sub, conf.type = "log-log")
  sm <- summary(km, times = h, extend = TRUE)
  cal[[length(cal) + 1]] <- data.frame(group = g, n = nrow(sub), n_events = sum(sub$event == 1 & sub$time <= h),
    predicted = mean(risk[grp == g]), observed = 1 - sm$surv, ci_lower = 1 - sm$upper, ci_upper = 1 - sm$lower,
    std_error = sm$std.err)
}
write.csv(do.call(rbind, cal), file.path(here, "fixtures", "validation_calibration_groups.csv"), row.names = FALSE,
          na = "")
# pseudo-observations of F(h) = 1 - S(h) (survival::pseudo, infinitesimal jackknife), regressed on the prediction
po <- 1 - as.numeric(pseudo(survfit(Surv(time, event) ~ 1, data = pred), times = h))
lmfit <- lm(po ~ risk)
co <- summary(lmfit)$coefficients
slope <- data.frame(horizon = h, term = c("intercept", "slope"), estimate = co[, 1], std_error = co[, 2],
                    row.names = NULL)
write.csv(slope, file.path(here, "fixtures", "validation_calibration_slope.csv"), row.names = FALSE, na = "")
write.csv(data.frame(id = pred$id, pseudo = po), file.path(here, "fixtures", "validation_pseudo.csv"),
          row.names = FALSE, na = "")

# --- the same for one cause (Competitor): Aalen-Johansen per group (multi-state survfit, IJ standard error, log
# interval) and its pseudo-values; the "prediction" is the cause's share of the predicted risk, a crude but fixed
# number (what matters here is that Python and R score the same numbers)
pred$cause_f <- factor(ifelse(pred$event == 1, pred$cause, "censored"),
                       levels = c("censored", sort(unique(pred$cause[pred$event == 1]))))
share <- mean(pred$cause[pred$event == 1] == "Competitor")
risk_c <- share * risk
brks <- quantile(risk_c, probs = seq(0, 1, 0.1), type = 7)
grp <- cut(risk_c, breaks = unique(brks), include.lowest = TRUE, labels = FALSE)
cal <- list()
for (g in sort(unique(grp))) {
  sub <- pred[grp == g, ]
  aj <- survfit(Surv(time, cause_f) ~ 1, data = sub)
  sm <- summary(aj, times = h, extend = TRUE)
  k <- match("Competitor", aj$states)
  cal[[length(cal) + 1]] <- data.frame(group = g, n = nrow(sub),
    n_events = sum(sub$event == 1 & sub$cause == "Competitor" & sub$time <= h), predicted = mean(risk_c[grp == g]),
    observed = sm$pstate[1, k], ci_lower = sm$lower[1, k], ci_upper = sm$upper[1, k], std_error = sm$std.err[1, k])
}
write.csv(do.call(rbind, cal), file.path(here, "fixtures", "validation_calibration_cause_groups.csv"),
          row.names = FALSE, na = "")
ajall <- survfit(Surv(time, cause_f) ~ 1, data = pred)
po_c <- pseudo(ajall, times = h)[, match("Competitor", ajall$states)]
co <- summary(lm(po_c ~ risk_c))$coefficients
slope <- data.frame(horizon = h, term = c("intercept", "slope"), estimate = co[, 1], std_error = co[, 2],
                    row.names = NULL)
write.csv(slope, file.path(here, "fixtures", "validation_calibration_cause_slope.csv"), row.names = FALSE, na = "")

writeLines(c(R.version.string, paste("survival", packageVersion("survival")),
             paste("riskRegression", packageVersion("riskRegression")), paste("prodlim", packageVersion("prodlim"))),
           file.path(here, "fixtures", "validation_VERSIONS.txt"))
