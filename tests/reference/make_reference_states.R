# Reference values for churnsurv.states (issue 15): multi-state Aalen-Johansen state occupation, its
# infinitesimal-jackknife standard errors, the Nelson-Aalen transition hazards and restricted mean times in
# state, from R `survival` (survfit with Surv(tstart, tstop, state), id= and istate=, which handles left
# truncation). Run from the repository root:
#   Rscript tests/reference/make_reference_states.R
# Writes tests/reference/inputs/states_spells.csv (seeded) and tests/reference/fixtures/states_*.csv.
suppressPackageStartupMessages(library(survival))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20261206)

inp <- "tests/reference/inputs"
out <- "tests/reference/fixtures"

# ---- input: customers moving active <-> partial -> lost, integer periods (ties), some entering late --------
rates <- list(active = c(partial = 0.10, lost = 0.03), partial = c(active = 0.12, lost = 0.15))
rows <- list()
k <- 0
for (i in 1:240) {
  segment <- if (i <= 130) "A" else "B"
  mult <- if (segment == "A") 1 else 1.6
  entry <- if (runif(1) < 0.3) sample(1:6, 1) else 0
  state <- if (runif(1) < 0.8) "active" else "partial"
  cens <- entry + sample(4:30, 1)
  t <- entry
  repeat {
    r <- rates[[state]] * mult
    stay <- ceiling(rexp(1, sum(r)))
    to <- sample(names(r), 1, prob = r)
    if (t + stay >= cens) {
      k <- k + 1
      rows[[k]] <- data.frame(id = i, segment = segment, entry = t, exit = cens, from_state = state,
                              to_state = "")
      break
    }
    k <- k + 1
    rows[[k]] <- data.frame(id = i, segment = segment, entry = t, exit = t + stay, from_state = state,
                            to_state = to)
    t <- t + stay
    state <- to
    if (state == "lost") break
  }
}
d <- do.call(rbind, rows)
write.csv(d, file.path(inp, "states_spells.csv"), row.names = FALSE)

# ---- fit ------------------------------------------------------------------------------------------------
states <- c("active", "partial", "lost")
d$to <- factor(ifelse(d$to_state == "", "censor", d$to_state), levels = c("censor", states))
d$from <- factor(d$from_state, levels = states)

tidy <- function(fit, segment) {
  st <- fit$states
  nt <- length(fit$time)
  data.frame(segment = rep(segment, nt * length(st)), time = rep(fit$time, length(st)),
             state = rep(st, each = nt), estimate = as.vector(fit$pstate),
             std_error = as.vector(fit$std.err), n_at_risk = as.vector(fit$n.risk))
}
occ <- NULL
haz <- NULL
p0 <- NULL
rm <- NULL
d$w <- 1 + (d$id %% 3)  # case weights, constant within a customer (the "weighted" fit)
for (g in c("all", "A", "B", "weighted")) {
  dd <- if (g %in% c("all", "weighted")) d else d[d$segment == g, ]
  fit <- if (g == "weighted") {
    survfit(Surv(entry, exit, to) ~ 1, data = dd, id = id, istate = from, weights = w, influence = TRUE)
  } else {
    survfit(Surv(entry, exit, to) ~ 1, data = dd, id = id, istate = from, influence = TRUE)
  }
  occ <- rbind(occ, tidy(fit, g))
  ch <- fit$cumhaz
  for (j in seq_len(ncol(ch))) {
    ij <- as.integer(strsplit(colnames(ch)[j], ".", fixed = TRUE)[[1]])
    haz <- rbind(haz, data.frame(segment = g, time = fit$time, from_state = fit$states[ij[1]],
                                 to_state = fit$states[ij[2]], cumulative_hazard = ch[, j]))
  }
  p0 <- rbind(p0, data.frame(segment = g, state = fit$states, p0 = as.vector(fit$p0),
                             sp0 = as.vector(fit$sp0)))
  for (tau in c(6, 12, 20.5)) {
    tab <- summary(fit, rmean = tau)$table
    rm <- rbind(rm, data.frame(segment = g, horizon = tau, state = rownames(tab),
                               estimate = tab[, "rmean"], std_error = tab[, "se(rmean)"]))
  }
}
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
write.csv(fmt(occ), file.path(out, "states_occupation.csv"), row.names = FALSE)
write.csv(fmt(haz), file.path(out, "states_cumhaz.csv"), row.names = FALSE)
write.csv(fmt(p0), file.path(out, "states_p0.csv"), row.names = FALSE)
write.csv(fmt(rm), file.path(out, "states_rmean.csv"), row.names = FALSE)
cat("survival", as.character(packageVersion("survival")), "\n")
