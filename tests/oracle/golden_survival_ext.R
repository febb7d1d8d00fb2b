# Golden values for the survival features of issue 19: weighted Kaplan-Meier with zero
# weights, (start, stop] counting-process input, Cox case weights / robust variance /
# aliased covariates, and Fine-Gray regression. Computed with R survival 3.5 and cmprsk.
#
# Sourced by make_golden.R (`make oracle`); same conventions as golden_survival.R: numbers
# written with 17 significant digits, NA for missing. Writes
#   data/kmw.csv            weighted KM cases (columns case, time, event, w)
#   survival/kmw_table.csv, survival/kmw_quantile.csv
# (further sections below list their own files).
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
stopifnot(packageVersion("survival") >= "3.5")
dir.create("data", showWarnings = FALSE)
dir.create("survival", showWarnings = FALSE)

num <- function(x) {
  out <- sprintf("%.17g", as.numeric(x))
  out[is.na(x)] <- "NA"
  out
}
write_full <- function(df, path) {
  for (col in names(df)) {
    v <- df[[col]]
    if (is.factor(v)) v <- as.character(v)
    if (is.logical(v)) v <- as.integer(v)
    if (is.numeric(v)) v <- num(v)
    df[[col]] <- v
  }
  write.csv(df, path, row.names = FALSE, quote = FALSE, na = "NA")
}
bind <- function(rows) do.call(rbind, rows)

# ---------------------------------------------------------------- weighted KM, zero weights
# small: the last row at risk has weight 0 (its own time has no weight at risk);
# lung_zero: lung with weight age/60, but 0 for every 7th row and for the longest follow-up;
# lung_iptw: non-integer weights that repeat (1/p, 1/(1-p) style), some zero.
lung_d <- survival::lung
kmw_sets <- list(
  small = data.frame(time = c(1, 2, 3, 4, 5, 6), event = c(1, 0, 1, 1, 0, 0),
                     w = c(1.5, 0.5, 2, 1.2, 0.7, 0)),
  lung_zero = local({
    w <- lung_d$age / 60
    w[seq_len(nrow(lung_d)) %% 7 == 0] <- 0
    w[which.max(lung_d$time)] <- 0
    data.frame(time = lung_d$time, event = lung_d$status - 1, w = w)
  }),
  lung_iptw = local({
    w <- ifelse(lung_d$sex == 1, 1 / 0.6, 1 / 0.4)
    w[seq_len(nrow(lung_d)) %% 11 == 0] <- 0
    data.frame(time = lung_d$time, event = lung_d$status - 1, w = w)
  })
)
kmw_d <- bind(lapply(names(kmw_sets), function(nm) cbind(case = nm, kmw_sets[[nm]])))
write_full(kmw_d, "data/kmw.csv")
kmw_rows <- list(); kmwq_rows <- list()
for (nm in names(kmw_sets)) {
  for (ct in c("log", "log-log", "plain")) {
    fit <- survfit(Surv(time, event) ~ 1, data = kmw_sets[[nm]], weights = w, conf.type = ct)
    s <- summary(fit, censored = TRUE)
    kmw_rows[[length(kmw_rows) + 1]] <- data.frame(
      case = nm, conf_type = ct, time = fit$time, n_risk = fit$n.risk,
      n_event = fit$n.event, surv = fit$surv, std_err = s$std.err,
      lower = fit$lower, upper = fit$upper)
    probs <- c(0.1, 0.25, 0.5, 0.75)
    q <- quantile(fit, probs = probs)
    kmwq_rows[[length(kmwq_rows) + 1]] <- data.frame(
      case = nm, conf_type = ct, prob = probs, quantile = unname(q$quantile),
      lower = unname(q$lower), upper = unname(q$upper))
  }
}
write_full(bind(kmw_rows), "survival/kmw_table.csv")
write_full(bind(kmwq_rows), "survival/kmw_quantile.csv")
