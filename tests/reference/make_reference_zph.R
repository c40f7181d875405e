# Reference values for churnsurv.models.ph_check: Schoenfeld residuals and the Grambsch-Therneau test of
# proportional hazards (the statistic of survival::cox.zph before survival 3.0, and of lifelines), computed
# here from survival 3.x's own residuals.coxph(type = "schoenfeld") and the model-based variance.
# Run from the repository root: Rscript tests/reference/make_reference_zph.R
# Writes tests/reference/fixtures/zph_*.csv. Input: tests/reference/inputs/maven_telco.csv (make_inputs.R; entry = max(time - 3, 0), the "end" rule).
suppressPackageStartupMessages(library(survival))
options(digits = 17)
inp <- read.csv("tests/reference/inputs/maven_telco.csv", stringsAsFactors = FALSE)
out <- "tests/reference/fixtures"

gt_test <- function(fit, y, transform = c("km", "rank")) {
  transform <- match.arg(transform)
  sres <- residuals(fit, type = "schoenfeld")
  if (is.null(dim(sres))) sres <- matrix(sres, ncol = 1)
  times <- as.numeric(rownames(sres))
  if (transform == "km") {
    km <- survfit(y ~ 1)
    # 1 - S(t-): the survival just before each event time
    idx <- findInterval(times, km$time, left.open = TRUE)
    before <- c(1, km$surv)[idx + 1]
    g <- 1 - before
  } else {
    g <- rank(times)
  }
  g <- g - mean(g)
  nd <- nrow(sres)
  v <- fit$var
  r2 <- sres %*% v * nd
  test <- as.vector(g %*% r2)
  z <- test^2 / (diag(v) * nd * sum(g^2))
  rho <- as.vector(cor(g, r2))
  u <- as.vector(g %*% sres)
  zg <- as.numeric(u %*% v %*% u) * nd / sum(g^2)
  data.frame(term = c(names(coef(fit)), "GLOBAL"), rho = c(rho, NA), statistic = c(z, zg),
             dof = c(rep(1, length(z)), length(z)), p_value = pchisq(c(z, zg), c(rep(1, length(z)), length(z)),
                                                                   lower.tail = FALSE))
}

inp$one_year <- as.numeric(inp$contract == "One Year")
inp$two_year <- as.numeric(inp$contract == "Two Year")
inp$competitor <- as.numeric(inp$event == 1 & !is.na(inp$cause) & inp$cause == "Competitor")
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
cases <- list(
  efron_truncated = list(y = with(inp, Surv(entry, time, competitor)), ties = "efron"),
  breslow_truncated = list(y = with(inp, Surv(entry, time, competitor)), ties = "breslow"),
  efron_naive = list(y = with(inp, Surv(time, competitor)), ties = "efron")
)
for (nm in names(cases)) {
  cs <- cases[[nm]]
  fit <- coxph(cs$y ~ one_year + two_year + monthly_charge, data = inp, ties = cs$ties, control = ctl)
  write.csv(data.frame(term = names(coef(fit)), coef = unname(coef(fit)), fit$var),
            file.path(out, sprintf("zph_%s_fit.csv", nm)), row.names = FALSE)
  sres <- residuals(fit, type = "schoenfeld")
  write.csv(data.frame(time = as.numeric(rownames(sres)), sres), file.path(out, sprintf("zph_%s_resid.csv", nm)),
            row.names = FALSE)
  for (tr in c("km", "rank")) {
    write.csv(gt_test(fit, cs$y, tr), file.path(out, sprintf("zph_%s_%s.csv", nm, tr)), row.names = FALSE)
  }
}
cat("wrote zph fixtures\n")
