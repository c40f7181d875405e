#!/usr/bin/env Rscript
# Build the shared reference inputs in tests/reference/inputs/ (read by both R and Python).
#
# Run from the repository root:
#     Rscript tests/reference/make_inputs.R
#
# Base R only (no extra packages). The simulated files are deterministic: set.seed() with
# RNGkind pinned below, so re-running on any R >= 3.6 reproduces them byte for byte.

RNGkind(kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")

in_dir <- file.path("tests", "reference", "inputs")
if (!file.exists(file.path("data", "ibm_telco_customer_churn.csv"))) {
  stop("run from the repository root: Rscript tests/reference/make_inputs.R")
}
dir.create(in_dir, showWarnings = FALSE, recursive = TRUE)

write_input <- function(df, name) {
  chr <- vapply(df, is.character, logical(1))
  for (col in names(df)[chr]) {
    if (any(grepl("[,\"\n]", df[[col]]))) stop("column ", col, " needs quoting")
  }
  # 15 significant digits (R's default for write.csv) reproduces the source decimals exactly.
  write.csv(df, file.path(in_dir, name), row.names = FALSE, quote = FALSE, na = "")
  cat(sprintf("wrote %-22s %5d rows  [%s]\n", name, nrow(df), paste(names(df), collapse = ", ")))
}

# ---------------------------------------------------------------------------------------------
# ibm_telco.csv  (IBM Telco customer churn, 7043 customers, right-censored only)
# ---------------------------------------------------------------------------------------------
ibm_raw <- read.csv(file.path("data", "ibm_telco_customer_churn.csv"), check.names = FALSE,
                    stringsAsFactors = FALSE)
ibm <- data.frame(
  id = ibm_raw[["CustomerID"]],
  time = as.integer(ibm_raw[["Tenure Months"]]),
  event = as.integer(ibm_raw[["Churn Value"]]),
  contract = ibm_raw[["Contract"]],                  # Month-to-month / One year / Two year
  internet_service = ibm_raw[["Internet Service"]],  # DSL / Fiber optic / No  (stratum for survdiff)
  senior_citizen = ibm_raw[["Senior Citizen"]],      # No / Yes
  stringsAsFactors = FALSE
)
stopifnot(nrow(ibm) == 7043, !anyNA(ibm), all(ibm$event %in% 0:1), !anyDuplicated(ibm$id))
write_input(ibm, "ibm_telco.csv")

# ---------------------------------------------------------------------------------------------
# maven_telco.csv  (Maven Analytics telecom churn, 7043 customers, one quarter snapshot)
# entry = max(time - 3, 0): the data is a one-quarter (3 month) snapshot, so a customer with
# tenure t was only observed from tenure t - 3 on (left truncation). "Joined" customers have
# tenure 1-3, so entry 0.
# ---------------------------------------------------------------------------------------------
mv_raw <- read.csv(file.path("data", "telecom_customer_churn.csv"), check.names = FALSE,
                   stringsAsFactors = FALSE)
mv_time <- as.integer(mv_raw[["Tenure in Months"]])
mv_event <- as.integer(mv_raw[["Customer Status"]] == "Churned")
mv_cause <- ifelse(mv_event == 1L, mv_raw[["Churn Category"]], NA_character_)
maven <- data.frame(
  id = mv_raw[["Customer ID"]],
  entry = pmax(mv_time - 3L, 0L),
  time = mv_time,
  event = mv_event,
  cause = mv_cause,                                   # empty for censored rows
  status = mv_raw[["Customer Status"]],               # Churned / Joined / Stayed
  contract = mv_raw[["Contract"]],                    # Month-to-Month / One Year / Two Year
  internet_service = mv_raw[["Internet Service"]],    # Yes / No (stratum for Gray's test)
  monthly_charge = mv_raw[["Monthly Charge"]],
  stringsAsFactors = FALSE
)
stopifnot(nrow(maven) == 7043, !anyDuplicated(maven$id),
          all(maven$time > maven$entry), all(maven$entry[maven$status == "Joined"] == 0),
          setequal(unique(na.omit(maven$cause)),
                   c("Attitude", "Competitor", "Dissatisfaction", "Other", "Price")),
          identical(is.na(maven$cause), maven$event == 0L))
write_input(maven, "maven_telco.csv")

# ---------------------------------------------------------------------------------------------
# sim_truncated.csv: simulated left-truncated monthly data, 2000 rows, three causes.
#   Customers sign up at tenure 0. A share (about 45%) are observed from sign-up (entry 0); the
#   rest were already customers when the observation window opened, at an integer tenure
#   entry ~ U{1..48}; they are in the data only if still a customer then (T > entry), which is
#   left truncation. The window lasts W ~ U{6..36} months (administrative censoring at
#   entry + W); there is also random drop-out censoring. Latent times are continuous
#   (cause-specific Weibull hazards) and are recorded as the billing month ceiling(T), so
#   time > entry always and there are many ties (also between exits and other rows' entries).
#   cause: 1, 2, 3 for events, 0 for censored. x1 ~ N(0, 1) and x2 ~ Bernoulli(0.4) act on the
#   cause-specific hazards.
# ---------------------------------------------------------------------------------------------
sim_latent <- function(n, grp, x1, x2) {
  g_eff <- c(A = 1.0, B = 1.6, C = 0.6)[grp]
  # cause-specific Weibull hazards h_k(t) = (shape/scale) (t/scale)^(shape-1) * exp(lp_k)
  draw <- function(shape, scale, lp) scale * (rexp(n) / exp(lp))^(1 / shape)
  t1 <- draw(0.8, 90, log(g_eff) + 0.4 * x1 + 0.5 * x2)
  t2 <- draw(1.1, 150, log(g_eff) - 0.3 * x1)
  t3 <- draw(1.0, 250, 0.6 * x2)
  tt <- pmin(t1, t2, t3)
  list(t = tt, cause = ifelse(tt == t1, 1L, ifelse(tt == t2, 2L, 3L)))
}

set.seed(20240611)
n_target <- 2000L
pool <- NULL
while (is.null(pool) || nrow(pool) < n_target) {
  n <- 4000L
  grp <- sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.4, 0.35, 0.25))
  x1 <- round(rnorm(n), 3)
  x2 <- rbinom(n, 1, 0.4)
  lat <- sim_latent(n, grp, x1, x2)
  entry <- ifelse(runif(n) < 0.45, 0L, sample.int(48L, n, replace = TRUE))
  window <- sample(6:36, n, replace = TRUE)
  dropout <- rexp(n, 1 / 120)
  keep <- lat$t > entry                                  # left truncation: seen only if alive at entry
  t_month <- ceiling(lat$t)                              # event recorded in its billing month
  c_month <- pmin(entry + window, entry + ceiling(dropout))  # censoring month (integer, > entry)
  c_month <- pmax(c_month, entry + 1L)
  event <- as.integer(t_month <= c_month)
  batch <- data.frame(
    entry = as.integer(entry),
    time = as.integer(ifelse(event == 1L, t_month, c_month)),
    event = event,
    cause = ifelse(event == 1L, lat$cause, 0L),
    group = grp, x1 = x1, x2 = as.integer(x2),
    stringsAsFactors = FALSE
  )[keep, ]
  pool <- rbind(pool, batch)
}
sim_tr <- pool[seq_len(n_target), ]
sim_tr <- data.frame(id = seq_len(n_target), sim_tr, row.names = NULL)
stopifnot(all(sim_tr$time > sim_tr$entry), all(sim_tr$cause[sim_tr$event == 0] == 0),
          all(sim_tr$cause[sim_tr$event == 1] %in% 1:3))
write_input(sim_tr, "sim_truncated.csv")

# ---------------------------------------------------------------------------------------------
# sim_continuous.csv: 500 rows, continuous times (6 decimals, no ties at all), no truncation
# (entry = 0), same columns. Uniform(0, 60) administrative censoring plus exponential drop-out.
# ---------------------------------------------------------------------------------------------
set.seed(19830412)
n <- 500L
grp <- sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.4, 0.35, 0.25))
x1 <- round(rnorm(n), 3)
x2 <- rbinom(n, 1, 0.4)
lat <- sim_latent(n, grp, x1, x2)
cens <- pmin(runif(n, 0, 60), rexp(n, 1 / 120))
ctime <- round(pmin(lat$t, cens), 6)
event <- as.integer(lat$t <= cens)
sim_co <- data.frame(
  id = seq_len(n), entry = 0, time = ctime, event = event,
  cause = ifelse(event == 1L, lat$cause, 0L), group = grp, x1 = x1, x2 = as.integer(x2),
  stringsAsFactors = FALSE
)
stopifnot(!anyDuplicated(sim_co$time), all(sim_co$time > 0))
write_input(sim_co, "sim_continuous.csv")
