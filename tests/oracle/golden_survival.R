# Golden values for allrwe.analyses.survival, computed with R survival 3.5, KMsurv and cmprsk.
#
# Sourced by make_golden.R (`make oracle`). Writes
#   data/*.csv       the datasets themselves (plus the derived columns named below), so the
#                    Python tests read exactly the rows R used;
#   survival/*.csv   the golden values, every number written with 17 significant digits
#                    (sprintf("%.17g")), NA/NaN written as NA and infinities as Inf/-Inf.
# Derived columns (added here, documented once):
#   lung$dead      = status - 1 (1 = died)
#   lung$w_int     = 1 + (row number %% 3)            integer case weights (Greenwood SE in R)
#   lung$w_frac    = age / 60                         non-integer weights (R uses the IJ SE)
#   mgus2$etime    = ptime if progression else futime  (as in the survival "compete" vignette)
#   mgus2$event_cr = 1 progression (PCM), 2 death without PCM, 0 censored
#   mgus2$age70    = 1 if age >= 70 (a stratum for Gray's test)
#   bmt$cause_cr   = 1 relapse (d2), 2 death in remission (d1 without d2), 0 censored; time t2
suppressPackageStartupMessages({
  library(survival)
  library(KMsurv)
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

# ---------------------------------------------------------------- datasets
data(bmt, package = "KMsurv")
data(alloauto, package = "KMsurv")
aml_d <- survival::aml
lung_d <- survival::lung
lung_d$dead <- lung_d$status - 1
lung_d$w_int <- 1 + (seq_len(nrow(lung_d)) %% 3)
lung_d$w_frac <- lung_d$age / 60
veteran_d <- survival::veteran
mgus2_d <- survival::mgus2
mgus2_d$etime <- with(mgus2_d, ifelse(pstat == 0, futime, ptime))
mgus2_d$event_cr <- with(mgus2_d, ifelse(pstat == 0, 2 * death, 1))
mgus2_d$age70 <- as.integer(mgus2_d$age >= 70)
bmt_d <- bmt
bmt_d$cause_cr <- with(bmt_d, ifelse(d2 == 1, 1, ifelse(d1 == 1, 2, 0)))
stopifnot(all((bmt_d$cause_cr > 0) == (bmt_d$d3 == 1)))
alloauto_d <- alloauto

# Small hand-made sets for the edge cases: ties of events and censorings at one time, time-0
# events, a curve that reaches 0, a curve flat at exactly 0.5 or 0.75, all censored, one row.
edge_sets <- list(
  all_censored = list(time = c(2, 3, 3, 5, 8), event = c(0, 0, 0, 0, 0)),
  single_event = list(time = 4, event = 1),
  single_censored = list(time = 4, event = 0),
  tie_event_censor = list(time = c(1, 2, 2, 2, 2, 3, 4, 4, 4, 5, 6),
                          event = c(1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0)),
  time_zero = list(time = c(0, 0, 0, 1, 2, 2, 3, 3, 4, 6),
                   event = c(1, 0, 1, 1, 0, 1, 1, 0, 1, 0)),
  reaches_zero = list(time = c(1, 2, 2, 3, 4, 5, 5), event = c(1, 0, 1, 1, 0, 1, 1)),
  flat_half = list(time = c(1:10), event = c(1, 1, 1, 1, 1, 0, 0, 0, 1, 0)),
  flat_half_at_end = list(time = c(1, 2, 3, 4), event = c(1, 1, 0, 0)),
  flat_quarter = list(time = c(1, 2, 3, 4, 5, 6, 7, 8), event = c(1, 1, 0, 1, 0, 1, 0, 1))
)
edge_d <- bind(lapply(names(edge_sets), function(nm) {
  data.frame(case = nm, time = edge_sets[[nm]]$time, event = edge_sets[[nm]]$event)
}))
# A small competing-risk set: time-0 events, ties across causes and with censorings.
edge_cr_d <- data.frame(
  time = c(0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7),
  cause = c(1, 0, 1, 2, 0, 2, 2, 1, 0, 2, 1, 0, 1, 2, 1, 0),
  group = c(1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2)
)

datasets <- list(aml = aml_d, lung = lung_d, veteran = veteran_d, mgus2 = mgus2_d,
                 bmt = bmt_d, alloauto = alloauto_d, edge = edge_d, edge_cr = edge_cr_d)
for (nm in names(datasets)) write_full(datasets[[nm]], file.path("data", paste0(nm, ".csv")))

# ---------------------------------------------------------------- Kaplan-Meier
km_cases <- data.frame(
  case = c("aml", "lung", "veteran", "bmt_os", "alloauto", "mgus2_os", "lung_w_int",
           "lung_w_frac", "lung_level90", paste0("edge_", names(edge_sets))),
  data = c("aml", "lung", "veteran", "bmt", "alloauto", "mgus2", "lung", "lung", "lung",
           rep("edge", length(edge_sets))),
  time = c("time", "time", "time", "t1", "time", "futime", "time", "time", "time",
           rep("time", length(edge_sets))),
  event = c("status", "dead", "status", "d1", "delta", "death", "dead", "dead", "dead",
            rep("event", length(edge_sets))),
  weight = c(NA, NA, NA, NA, NA, NA, "w_int", "w_frac", NA, rep(NA, length(edge_sets))),
  conf_level = c(rep(0.95, 8), 0.90, rep(0.95, length(edge_sets))),
  subset = c(rep(NA, 9), names(edge_sets)),
  stringsAsFactors = FALSE
)
write_full(km_cases, "survival/km_cases.csv")

case_data <- function(cs) {
  d <- datasets[[cs$data]]
  if (!is.na(cs$subset)) d <- d[d$case == cs$subset, ]
  out <- data.frame(time = d[[cs$time]], event = d[[cs$event]])
  out$w <- if (is.na(cs$weight)) rep(1, nrow(d)) else d[[cs$weight]]
  out
}

fit_km <- function(d, cs, ct) {
  if (is.na(cs$weight)) {
    survfit(Surv(time, event) ~ 1, data = d, conf.type = ct, conf.int = cs$conf_level)
  } else {
    survfit(Surv(time, event) ~ 1, data = d, weights = w, conf.type = ct,
            conf.int = cs$conf_level)
  }
}

conf_types <- c("plain", "log", "log-log", "logit", "arcsin")
probs <- c(0, 0.1, 0.25, 0.5, 0.75, 0.9, 1)
km_rows <- list(); q_rows <- list(); tab_rows <- list(); lm_rows <- list()
rm_rows <- list(); fu_rows <- list()
for (i in seq_len(nrow(km_cases))) {
  cs <- km_cases[i, ]
  d <- case_data(cs)
  for (ct in conf_types) {
    fit <- fit_km(d, cs, ct)
    s <- summary(fit, censored = TRUE)
    stopifnot(length(s$time) == length(fit$time))
    km_rows[[length(km_rows) + 1]] <- data.frame(
      case = cs$case, conf_type = ct, time = fit$time, n_risk = fit$n.risk,
      n_event = fit$n.event, n_censor = fit$n.censor, surv = fit$surv,
      std_err_fit = fit$std.err, logse = fit$logse, std_err_summary = s$std.err,
      lower = fit$lower, upper = fit$upper)
    q <- quantile(fit, probs = probs)
    q_rows[[length(q_rows) + 1]] <- data.frame(
      case = cs$case, conf_type = ct, prob = probs, quantile = unname(q$quantile),
      lower = unname(q$lower), upper = unname(q$upper))
    tb <- summary(fit)$table
    tab_rows[[length(tab_rows) + 1]] <- data.frame(
      case = cs$case, conf_type = ct, rmean = tb[["rmean"]], se_rmean = tb[["se(rmean)"]],
      median = tb[["median"]], median_lower = unname(tb[8]), median_upper = unname(tb[9]))
    lt <- sort(unique(c(0, quantile(d$time, c(0.1, 0.5, 0.9), type = 1, names = FALSE),
                        max(d$time), 1.5 * max(d$time) + 1)))
    for (ext in c(FALSE, TRUE)) {
      sl <- tryCatch(summary(fit, times = lt, extend = ext), error = function(e) NULL)
      if (is.null(sl)) next
      lm_rows[[length(lm_rows) + 1]] <- data.frame(
        case = cs$case, conf_type = ct, extend = ext, time = sl$time, n_risk = sl$n.risk,
        n_event = sl$n.event, n_censor = sl$n.censor, surv = sl$surv,
        std_err = sl$std.err, lower = sl$lower, upper = sl$upper)
    }
    if (is.na(cs$weight) && ct %in% c("log", "log-log")) {
      fr <- survfit(Surv(time, 1 - event) ~ 1, data = d, conf.type = ct,
                    conf.int = cs$conf_level)
      qf <- quantile(fr, probs = 0.5)
      fu_rows[[length(fu_rows) + 1]] <- data.frame(
        case = cs$case, conf_type = ct, median = unname(qf$quantile),
        lower = unname(qf$lower), upper = unname(qf$upper))
    }
  }
  fit <- fit_km(d, cs, "log-log")
  taus <- sort(unique(c(quantile(d$time, 0.5, type = 1, names = FALSE), max(d$time),
                        1.25 * max(d$time))))
  taus <- taus[taus >= min(fit$time)]
  for (tau in c(NA, taus)) {
    tb <- if (is.na(tau)) summary(fit)$table else summary(fit, rmean = tau)$table
    rm_rows[[length(rm_rows) + 1]] <- data.frame(
      case = cs$case, tau = tau, rmean = tb[["rmean"]], se_rmean = tb[["se(rmean)"]])
  }
}
write_full(bind(km_rows), "survival/km_table.csv")
write_full(bind(q_rows), "survival/km_quantile.csv")
write_full(bind(tab_rows), "survival/km_print_table.csv")
write_full(bind(lm_rows), "survival/km_landmark.csv")
write_full(bind(rm_rows), "survival/km_rmst.csv")
write_full(bind(fu_rows), "survival/km_followup.csv")

# ---------------------------------------------------------------- log-rank (survdiff)
lr_cases <- data.frame(
  case = c("aml_x", "lung_sex", "veteran_trt", "veteran_celltype", "lung_sex_strata_ecog",
           "veteran_trt_strata_celltype", "lung_sex_rho1", "veteran_trt_rho05",
           "veteran_celltype_rho1_strata_trt"),
  data = c("aml", "lung", "veteran", "veteran", "lung", "veteran", "lung", "veteran",
           "veteran"),
  time = "time",
  event = c("status", "dead", "status", "status", "dead", "status", "dead", "status",
            "status"),
  group = c("x", "sex", "trt", "celltype", "sex", "trt", "sex", "trt", "celltype"),
  strata = c(NA, NA, NA, NA, "ph.ecog", "celltype", NA, NA, "trt"),
  rho = c(0, 0, 0, 0, 0, 0, 1, 0.5, 1),
  stringsAsFactors = FALSE
)
write_full(lr_cases, "survival/logrank_cases.csv")
lr_groups <- list(); lr_tests <- list()
for (i in seq_len(nrow(lr_cases))) {
  cs <- lr_cases[i, ]
  d <- datasets[[cs$data]]
  d <- data.frame(time = d[[cs$time]], event = d[[cs$event]], g = d[[cs$group]],
                  s = if (is.na(cs$strata)) 1 else d[[cs$strata]])
  d <- na.omit(d)
  fit <- if (is.na(cs$strata)) {
    survdiff(Surv(time, event) ~ g, data = d, rho = cs$rho)
  } else {
    survdiff(Surv(time, event) ~ g + strata(s), data = d, rho = cs$rho)
  }
  obs <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  ex <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  lv <- as.character(levels(factor(d$g)))
  lr_groups[[i]] <- data.frame(case = cs$case, group = lv, n = as.vector(fit$n),
                               observed = obs, expected = ex, var_diag = diag(fit$var))
  lr_tests[[i]] <- data.frame(case = cs$case, chisq = fit$chisq, df = sum(ex > 0) - 1,
                              p = fit$pvalue, n_used = nrow(d))
}
write_full(bind(lr_groups), "survival/logrank_groups.csv")
write_full(bind(lr_tests), "survival/logrank_tests.csv")

# ---------------------------------------------------------------- Cox (coxph)
cox_cases <- data.frame(
  case = c("lung_age_sex", "lung_age_sex_ecog", "veteran_trt_karno_age",
           "veteran_trt_karno_strata_celltype", "lung_age_sex_strata_ecog", "lung_ecog_only"),
  data = c("lung", "lung", "veteran", "veteran", "lung", "lung"),
  time = "time",
  event = c("dead", "dead", "status", "status", "dead", "dead"),
  covariates = c("age;sex", "age;sex;ph.ecog", "trt;karno;age", "trt;karno", "age;sex",
                 "ph.ecog"),
  strata = c(NA, NA, NA, "celltype", "ph.ecog", NA),
  stringsAsFactors = FALSE
)
write_full(cox_cases, "survival/cox_cases.csv")
cox_coef <- list(); cox_fit <- list()
for (i in seq_len(nrow(cox_cases))) {
  cs <- cox_cases[i, ]
  covs <- strsplit(cs$covariates, ";")[[1]]
  rhs <- paste(sprintf("`%s`", covs), collapse = " + ")
  if (!is.na(cs$strata)) rhs <- paste0(rhs, " + strata(`", cs$strata, "`)")
  f <- as.formula(paste0("Surv(", cs$time, ", ", cs$event, ") ~ ", rhs))
  for (ties in c("efron", "breslow")) {
    fit <- coxph(f, data = datasets[[cs$data]], ties = ties)
    sm <- summary(fit)
    co <- sm$coefficients
    ci <- sm$conf.int
    cox_coef[[length(cox_coef) + 1]] <- data.frame(
      case = cs$case, ties = ties, term = covs, coef = co[, "coef"],
      se = co[, "se(coef)"], hr = co[, "exp(coef)"], lower = ci[, 3], upper = ci[, 4],
      z = co[, "z"], p = co[, "Pr(>|z|)"])
    df <- sum(!is.na(coef(fit)))
    cox_fit[[length(cox_fit) + 1]] <- data.frame(
      case = cs$case, ties = ties, n = fit$n, n_event = fit$nevent,
      loglik_null = fit$loglik[1], loglik = fit$loglik[2],
      lr = sm$logtest[["test"]], lr_df = sm$logtest[["df"]], lr_p = sm$logtest[["pvalue"]],
      wald = fit$wald.test, wald_df = df,
      wald_p = pchisq(fit$wald.test, df, lower.tail = FALSE),
      score = fit$score, score_df = df, score_p = sm$sctest[["pvalue"]], iter = fit$iter)
  }
}
write_full(bind(cox_coef), "survival/cox_coef.csv")
write_full(bind(cox_fit), "survival/cox_fit.csv")

# ---------------------------------------------------------------- competing risks
cr_cases <- data.frame(
  case = c("mgus2", "bmt", "edge_cr"),
  data = c("mgus2", "bmt", "edge_cr"),
  time = c("etime", "t2", "time"),
  cause = c("event_cr", "cause_cr", "cause"),
  stringsAsFactors = FALSE
)
write_full(cr_cases, "survival/cif_cases.csv")
cif_rows <- list(); cmp_rows <- list()
for (i in seq_len(nrow(cr_cases))) {
  cs <- cr_cases[i, ]
  d <- datasets[[cs$data]]
  d <- data.frame(time = d[[cs$time]], cause = d[[cs$cause]])
  causes <- sort(unique(d$cause[d$cause != 0]))
  for (ct in conf_types) {
    fit <- survfit(Surv(time, factor(cause, levels = c(0, causes))) ~ 1, data = d,
                   conf.type = ct)
    # R's arcsin branch (pmax/pmin) drops the matrix dimensions; the values are column-major.
    lower <- matrix(fit$lower, nrow = nrow(fit$pstate))
    upper <- matrix(fit$upper, nrow = nrow(fit$pstate))
    for (k in seq_len(ncol(fit$pstate))) {
      cif_rows[[length(cif_rows) + 1]] <- data.frame(
        case = cs$case, conf_type = ct, cause = c(0, causes)[k], time = fit$time,
        n_risk = fit$n.risk[, 1], n_event = fit$n.event[, k], n_censor = fit$n.censor,
        estimate = fit$pstate[, k], std_err = fit$std.err[, k], lower = lower[, k],
        upper = upper[, k])
    }
  }
  ci <- cuminc(d$time, d$cause, cencode = 0)
  for (k in seq_along(causes)) {
    z <- ci[[k]]
    # cinc's layout: origin, then (before, after) pairs at each event time, then the end
    jump <- seq(3, length(z$time) - 1, by = 2)
    cmp_rows[[length(cmp_rows) + 1]] <- data.frame(
      case = cs$case, cause = causes[k], time = z$time[jump], estimate = z$est[jump],
      var = z$var[jump])
  }
}
write_full(bind(cif_rows), "survival/cif_table.csv")
write_full(bind(cmp_rows), "survival/cif_cmprsk_var.csv")

gray_cases <- data.frame(
  case = c("mgus2_sex", "bmt_group", "mgus2_sex_strata_age70", "bmt_group_rho1",
           "edge_cr_group"),
  data = c("mgus2", "bmt", "mgus2", "bmt", "edge_cr"),
  time = c("etime", "t2", "etime", "t2", "time"),
  cause = c("event_cr", "cause_cr", "event_cr", "cause_cr", "cause"),
  group = c("sex", "group", "sex", "group", "group"),
  strata = c(NA, NA, "age70", NA, NA),
  rho = c(0, 0, 0, 1, 0),
  stringsAsFactors = FALSE
)
write_full(gray_cases, "survival/gray_cases.csv")
gray_rows <- list()
for (i in seq_len(nrow(gray_cases))) {
  cs <- gray_cases[i, ]
  d <- datasets[[cs$data]]
  ci <- if (is.na(cs$strata)) {
    cuminc(d[[cs$time]], d[[cs$cause]], group = d[[cs$group]], rho = cs$rho, cencode = 0)
  } else {
    cuminc(d[[cs$time]], d[[cs$cause]], group = d[[cs$group]], strata = d[[cs$strata]],
           rho = cs$rho, cencode = 0)
  }
  tt <- ci$Tests
  gray_rows[[i]] <- data.frame(case = cs$case, cause = as.numeric(rownames(tt)),
                               stat = tt[, "stat"], p = tt[, "pv"], df = tt[, "df"])
}
write_full(bind(gray_rows), "survival/gray.csv")

writeLines(c(paste("R", getRversion()), paste("survival", packageVersion("survival")),
             paste("KMsurv", packageVersion("KMsurv")), paste("cmprsk", packageVersion("cmprsk"))),
           "survival/VERSIONS.txt")
