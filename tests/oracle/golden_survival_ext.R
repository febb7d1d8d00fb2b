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

# kmw_random: 100 sets of 25 rows, set.seed(1), times 1..15 (many ties), event ~ B(0.6),
# weights drawn from {0, 1/3, 0.7, 1.1, 2/3, 1.5}; quartiles with CI for three interval
# types. Before the fix, allrwe missed 8 of these sets (NaN SE after a zero weight, or a
# limit on a later knot from SE drift in the last place).
# Writes data/kmw_random.csv and survival/kmw_random_quantile.csv.
set.seed(1)
rnd_d <- list(); rnd_q <- list()
for (s in 1:100) {
  time <- sample(1:15, 25, replace = TRUE)
  event <- rbinom(25, 1, 0.6)
  w <- sample(c(0, 1 / 3, 0.7, 1.1, 2 / 3, 1.5), 25, replace = TRUE)
  if (sum(w[event == 1]) == 0) next
  rnd_d[[length(rnd_d) + 1]] <- data.frame(set = s, time = time, event = event, w = w)
  for (ct in c("log", "log-log", "plain")) {
    q <- quantile(survfit(Surv(time, event) ~ 1, weights = w, conf.type = ct),
                  c(0.25, 0.5, 0.75))
    rnd_q[[length(rnd_q) + 1]] <- data.frame(
      set = s, conf_type = ct, prob = c(0.25, 0.5, 0.75), quantile = unname(q$quantile),
      lower = unname(q$lower), upper = unname(q$upper))
  }
}
write_full(bind(rnd_d), "data/kmw_random.csv")
write_full(bind(rnd_q), "survival/kmw_random_quantile.csv")

# ---------------------------------------------------------------- (start, stop] input
# heart: survival::heart, the Stanford heart transplant rows split at transplant (start,
#        stop, event, age, year, surgery, transplant, id), as R ships them, with the
#        transplant factor written as 0/1.
# lung_lt: lung with delayed entry, entry = floor(time * u), u ~ U(0, 0.6), set.seed(19);
#        dead = status - 1.
# Log-rank with (start, stop] input: survdiff takes none, so the golden value is the score
# test of coxph(Surv(start, stop, event) ~ factor(group), ties = "exact"), which equals the
# log-rank statistic (checked below on right-censored lung against survdiff).
# Writes data/heart.csv, data/lung_lt.csv, survival/cp_km.csv, survival/cp_logrank.csv,
# survival/cpx_cases.csv, survival/cpx_coef.csv, survival/cpx_fit.csv.
heart_d <- survival::heart
heart_d$transplant <- as.integer(as.character(heart_d$transplant))  # a 0/1 factor in R
set.seed(19)
lung_lt <- survival::lung
lung_lt$dead <- lung_lt$status - 1
lung_lt$entry <- floor(lung_lt$time * runif(nrow(lung_lt), 0, 0.6))
stopifnot(all(lung_lt$entry < lung_lt$time))
write_full(heart_d, "data/heart.csv")
write_full(lung_lt, "data/lung_lt.csv")
cp_sets <- list(heart = list(d = heart_d, start = "start", stop = "stop", event = "event"),
                lung_lt = list(d = lung_lt, start = "entry", stop = "time", event = "dead"))
cpkm_rows <- list()
for (nm in names(cp_sets)) {
  cs <- cp_sets[[nm]]
  d <- data.frame(start = cs$d[[cs$start]], stop = cs$d[[cs$stop]], event = cs$d[[cs$event]],
                  group = if (nm == "heart") cs$d$transplant else cs$d$sex)
  for (ct in c("log", "log-log")) {
    for (by in c(FALSE, TRUE)) {
      fit <- if (by) survfit(Surv(start, stop, event) ~ group, data = d, conf.type = ct)
             else survfit(Surv(start, stop, event) ~ 1, data = d, conf.type = ct)
      s <- summary(fit, censored = TRUE)
      grp <- if (by) sub("group=", "", as.character(s$strata)) else "all"
      cpkm_rows[[length(cpkm_rows) + 1]] <- data.frame(
        case = nm, conf_type = ct, group = grp, time = s$time, n_risk = s$n.risk,
        n_event = s$n.event, n_censor = s$n.censor, surv = s$surv, std_err = s$std.err,
        lower = s$lower, upper = s$upper)
    }
  }
}
write_full(bind(cpkm_rows), "survival/cp_km.csv")

lung_rc <- lung_lt
stopifnot(isTRUE(all.equal(
  survdiff(Surv(time, dead) ~ sex, data = lung_rc)$chisq,
  coxph(Surv(time, dead) ~ factor(sex), data = lung_rc, ties = "exact")$score,
  tolerance = 1e-10)))
lr_specs <- list(
  list(case = "heart_transplant", d = heart_d, f = Surv(start, stop, event) ~ factor(transplant)),
  list(case = "heart_surgery", d = heart_d, f = Surv(start, stop, event) ~ factor(surgery)),
  list(case = "lung_lt_sex", d = lung_lt, f = Surv(entry, time, dead) ~ factor(sex)),
  list(case = "lung_lt_ecog", d = lung_lt, f = Surv(entry, time, dead) ~ factor(ph.ecog)),
  list(case = "lung_lt_sex_strata_ecog", d = lung_lt,
       f = Surv(entry, time, dead) ~ factor(sex) + strata(ph.ecog))
)
cplr_rows <- lapply(lr_specs, function(sp) {
  fit <- coxph(sp$f, data = sp$d, ties = "exact")
  data.frame(case = sp$case, chisq = fit$score, df = sum(!is.na(coef(fit))), n = fit$n)
})
write_full(bind(cplr_rows), "survival/cp_logrank.csv")

# Cox with (start, stop] input (and, in later sections, weights, robust variance, clusters).
# One row per case; covariates separated by ";"; NA = not used.
cpx_cases <- data.frame(
  case = c("heart_all", "heart_transplant", "lung_lt_age_sex_ecog", "lung_lt_strata_sex"),
  data = c("heart", "heart", "lung_lt", "lung_lt"),
  entry = c("start", "start", "entry", "entry"),
  time = c("stop", "stop", "time", "time"),
  event = c("event", "event", "dead", "dead"),
  covariates = c("age;year;surgery;transplant", "transplant", "age;sex;ph.ecog",
                 "age;ph.ecog"),
  strata = c(NA, NA, NA, "sex"),
  weights = NA, cluster = NA, robust = FALSE,
  stringsAsFactors = FALSE
)
cox_datasets <- list(heart = heart_d, lung_lt = lung_lt)

fit_cox_case <- function(cs, ties) {
  d <- cox_datasets[[cs$data]]
  d$.w <- if (is.na(cs$weights)) 1 else d[[cs$weights]]
  d$.id <- if (is.na(cs$cluster)) seq_len(nrow(d)) else d[[cs$cluster]]
  lhs <- if (is.na(cs$entry)) sprintf("Surv(%s, %s)", cs$time, cs$event)
         else sprintf("Surv(%s, %s, %s)", cs$entry, cs$time, cs$event)
  rhs <- paste(strsplit(cs$covariates, ";")[[1]], collapse = " + ")
  if (!is.na(cs$strata)) rhs <- paste0(rhs, " + strata(", cs$strata, ")")
  f <- as.formula(paste(lhs, "~", rhs))
  if (!is.na(cs$cluster)) {
    coxph(f, data = d, ties = ties, weights = .w, cluster = .id)
  } else if (isTRUE(cs$robust)) {
    coxph(f, data = d, ties = ties, weights = .w, robust = TRUE)
  } else {
    coxph(f, data = d, ties = ties, weights = .w)
  }
}

write_cox_cases <- function(cases, prefix) {
  coef_rows <- list(); fit_rows <- list()
  for (i in seq_len(nrow(cases))) {
    cs <- cases[i, ]
    for (ties in c("efron", "breslow")) {
      fit <- fit_cox_case(cs, ties)
      # fit$var is p x p with zero rows/columns for aliased terms
      se_full <- ifelse(is.na(coef(fit)), NA, sqrt(diag(fit$var)))
      naive <- if (is.null(fit$naive.var)) se_full
               else ifelse(is.na(coef(fit)), NA, sqrt(diag(fit$naive.var)))
      coef_rows[[length(coef_rows) + 1]] <- data.frame(
        case = cs$case, ties = ties, term = names(coef(fit)), coef = unname(coef(fit)),
        se = se_full, naive_se = naive)
      df <- sum(!is.na(coef(fit)))
      fit_rows[[length(fit_rows) + 1]] <- data.frame(
        case = cs$case, ties = ties, n = fit$n, n_event = fit$nevent,
        loglik_null = fit$loglik[1], loglik = fit$loglik[2],
        lr = 2 * diff(fit$loglik), df = df, wald = unname(fit$wald.test),
        score = unname(fit$score),
        robust_score = if (is.null(fit$rscore)) NA else unname(fit$rscore),
        iter = fit$iter)
    }
  }
  write_full(cases, sprintf("survival/%s_cases.csv", prefix))
  write_full(bind(coef_rows), sprintf("survival/%s_coef.csv", prefix))
  write_full(bind(fit_rows), sprintf("survival/%s_fit.csv", prefix))
}
write_cox_cases(cpx_cases, "cpx")

# ---------------------------------------------------------------- Cox: aliasing, weights, robust
# lung_x: lung with dead = status - 1 and
#   x1 = age, x2 = age + 1e-7 * rnorm (set.seed(7)): x2 is redundant, coxph sets it aside (NA)
#   sep = 1 if died before day 300: a monotone likelihood ("coefficient may be infinite")
#   wt = 0.5 + (row number %% 4) * 0.375: non-integer case weights (with them coxph
#        reports the robust variance by default, naive.var = the inverse information)
# heart and lung_lt as above (cluster = id for heart, inst for lung_lt; rows with a missing
# inst are dropped by na.omit).
# Writes data/lung_x.csv, survival/coxx_cases.csv, survival/coxx_coef.csv, survival/coxx_fit.csv,
# survival/coxx_warn.csv (the warnings coxph gave, per case).
set.seed(7)
lung_x <- survival::lung
lung_x$dead <- lung_x$status - 1
lung_x$x1 <- lung_x$age
lung_x$x2 <- lung_x$age + 1e-7 * rnorm(nrow(lung_x))
lung_x$sep <- as.integer(lung_x$time < 300 & lung_x$dead == 1)
lung_x$wt <- 0.5 + (seq_len(nrow(lung_x)) %% 4) * 0.375
write_full(lung_x, "data/lung_x.csv")
lung_lt$wt <- 0.5 + (seq_len(nrow(lung_lt)) %% 4) * 0.375
write_full(lung_lt, "data/lung_lt.csv")
cox_datasets <- list(heart = heart_d, lung_lt = lung_lt, lung_x = lung_x)
coxx_cases <- data.frame(
  case = c("lung_alias", "lung_sep", "lung_weights", "lung_weights_robust", "lung_robust",
           "heart_cluster", "lung_lt_weights_cluster", "lung_alias_robust",
           "lung_lt_strata_weights_cluster"),
  data = c(rep("lung_x", 5), "heart", "lung_lt", "lung_x", "lung_lt"),
  entry = c(rep(NA, 5), "start", "entry", NA, "entry"),
  time = c(rep("time", 5), "stop", "time", "time", "time"),
  event = c(rep("dead", 5), "event", "dead", "dead", "dead"),
  covariates = c("x1;x2;sex", "age;sep", "age;sex;ph.ecog", "age;sex;ph.ecog", "age;sex",
                 "age;year;surgery;transplant", "age;sex;ph.ecog", "x1;x2;sex",
                 "age;ph.ecog"),
  strata = c(rep(NA, 8), "sex"),
  weights = c(NA, NA, "wt", "wt", NA, NA, "wt", NA, "wt"),
  cluster = c(NA, NA, NA, NA, NA, "id", "inst", NA, "inst"),
  robust = c(FALSE, FALSE, FALSE, TRUE, TRUE, TRUE, TRUE, TRUE, TRUE),
  stringsAsFactors = FALSE
)
warn_rows <- list()
for (i in seq_len(nrow(coxx_cases))) {
  msgs <- character(0)
  withCallingHandlers(fit_cox_case(coxx_cases[i, ], "efron"),
                      warning = function(w) {
                        msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning")
                      })
  warn_rows[[i]] <- data.frame(case = coxx_cases$case[i],
                               warning = if (length(msgs)) gsub(",", ";", paste(msgs, collapse = " | ")) else NA)
}
write_full(bind(warn_rows), "survival/coxx_warn.csv")
suppressWarnings(write_cox_cases(coxx_cases, "coxx"))

# ---------------------------------------------------------------- groups formed after index
# jasa: survival::jasa (Stanford heart transplant, one row per person) with
#   id = row number, futime = pmax(0.5, fu.date - accept.dt) (as the survival vignette; one
#   person has 0 days), txtime = tx.date - accept.dt (NA = no transplant), fustat, age,
#   surgery. Person 38 has the transplant on the day of death, persons 3 and 45 on day 0.
# tmerge(..., death = event(futime, fustat), transplant = tdc(txtime)) gives the split rows
# (survival/tmerge_rows.csv); on them: Simon-Makuch curves survfit(Surv(tstart, tstop,
# death) ~ transplant) (survival/sm_km.csv), the Mantel-Byar test = coxph exact score of
# ~ factor(transplant) (survival/sm_logrank.csv) and the time-dependent Cox model
# (survival/td_cases.csv, td_coef.csv, td_fit.csv).
# Landmarks at 30 and 90 days: persons with futime > L, group = transplant by day L, time
# from L: survfit and survdiff (survival/lm_km.csv, survival/lm_logrank.csv).
jasa_d <- survival::jasa
jasa_d$id <- seq_len(nrow(jasa_d))
jasa_d$futime <- pmax(0.5, as.numeric(jasa_d$fu.date - jasa_d$accept.dt))
jasa_d$txtime <- as.numeric(jasa_d$tx.date - jasa_d$accept.dt)
jasa_out <- jasa_d[, c("id", "age", "surgery", "futime", "fustat", "txtime")]
write_full(jasa_out, "data/jasa.csv")
td <- tmerge(jasa_out[, c("id", "age", "surgery")], jasa_out, id = id,
             death = event(futime, fustat), transplant = tdc(txtime))
write_full(td[, c("id", "tstart", "tstop", "death", "transplant")], "survival/tmerge_rows.csv")
sm_rows <- list()
for (ct in c("log", "log-log")) {
  s <- summary(survfit(Surv(tstart, tstop, death) ~ transplant, data = td, conf.type = ct),
               censored = TRUE)
  sm_rows[[ct]] <- data.frame(
    conf_type = ct, group = sub("transplant=", "", as.character(s$strata)), time = s$time,
    n_risk = s$n.risk, n_event = s$n.event, surv = s$surv, std_err = s$std.err,
    lower = s$lower, upper = s$upper)
}
write_full(bind(sm_rows), "survival/sm_km.csv")
mb <- coxph(Surv(tstart, tstop, death) ~ factor(transplant), data = td, ties = "exact")
write_full(data.frame(chisq = mb$score, df = 1), "survival/sm_logrank.csv")
cox_datasets$jasa_td <- td
td_cases <- data.frame(case = c("jasa_td", "jasa_td_cluster"), data = "jasa_td",
                       entry = "tstart", time = "tstop", event = "death",
                       covariates = "transplant;age;surgery", strata = NA, weights = NA,
                       cluster = c(NA, "id"), robust = c(FALSE, TRUE),
                       stringsAsFactors = FALSE)
write_cox_cases(td_cases, "td")
lmkm_rows <- list(); lmlr_rows <- list()
for (L in c(30, 90)) {
  d <- jasa_out[jasa_out$futime > L, ]
  d$group <- as.integer(!is.na(d$txtime) & d$txtime <= L)
  d$t <- d$futime - L
  s <- summary(survfit(Surv(t, fustat) ~ group, data = d, conf.type = "log-log"),
               censored = TRUE)
  lmkm_rows[[length(lmkm_rows) + 1]] <- data.frame(
    landmark = L, group = sub("group=", "", as.character(s$strata)), time = s$time,
    n_risk = s$n.risk, n_event = s$n.event, surv = s$surv, std_err = s$std.err,
    lower = s$lower, upper = s$upper)
  sd <- survdiff(Surv(t, fustat) ~ group, data = d)
  lmlr_rows[[length(lmlr_rows) + 1]] <- data.frame(
    landmark = L, n = nrow(d), n_switched = sum(d$group), chisq = sd$chisq)
}
write_full(bind(lmkm_rows), "survival/lm_km.csv")
write_full(bind(lmlr_rows), "survival/lm_logrank.csv")

# ---------------------------------------------------------------- Fine-Gray (cmprsk::crr)
# fg_mgus2: survival::mgus2 with etime/event_cr as in golden_survival.R (1 = progression,
#   2 = death without progression, 0 = censored), male = (sex == "M"); covariates age, male,
#   hgb (rows with a missing hgb dropped, as crr's na.omit). Failure code 1 and, reversed,
#   failure code 2.
# fg_bmt: KMsurv bmt with cause_cr (1 relapse, 2 death in remission); covariates z1 (patient
#   age), z3 (patient sex), z8 (FAB class), group 2/3 indicators.
# Two more fits give each censoring group its own censoring distribution (cengroup = male,
# cengroup = z8). crr is run at its defaults (gtol 1e-6, maxiter 10). Writes the rows (one
# block per dataset: data/fg_mgus2.csv, data/fg_bmt.csv), survival/fg_coef.csv (coef, se from crr's var), survival/fg_fit.csv
# (loglik, loglik.null, converged) and survival/fg_predict.csv (predict.crr at two covariate
# vectors: the column means and the first row).
mg <- survival::mgus2
mg$etime <- with(mg, ifelse(pstat == 0, futime, ptime))
mg$event_cr <- with(mg, ifelse(pstat == 0, 2 * death, 1))
mg$male <- as.integer(mg$sex == "M")
mg <- mg[, c("etime", "event_cr", "age", "male", "hgb")]
data(bmt, package = "KMsurv", envir = environment())
bm <- bmt
bm$cause_cr <- with(bm, ifelse(d2 == 1, 1, ifelse(d1 == 1, 2, 0)))
bm$g2 <- as.integer(bm$group == 2)
bm$g3 <- as.integer(bm$group == 3)
bm <- bm[, c("t2", "cause_cr", "z1", "z3", "z8", "g2", "g3")]
write_full(mg, "data/fg_mgus2.csv")
write_full(bm, "data/fg_bmt.csv")
fg_specs <- list(
  list(case = "mgus2_pcm", d = mg, time = "etime", cause = "event_cr", failcode = 1,
       cov = c("age", "male", "hgb")),
  list(case = "mgus2_death", d = mg, time = "etime", cause = "event_cr", failcode = 2,
       cov = c("age", "male", "hgb")),
  list(case = "bmt_relapse", d = bm, time = "t2", cause = "cause_cr", failcode = 1,
       cov = c("z1", "z3", "z8", "g2", "g3")),
  list(case = "mgus2_pcm_cengroup_male", d = mg, time = "etime", cause = "event_cr",
       failcode = 1, cov = c("age", "hgb"), cengroup = "male"),
  list(case = "bmt_relapse_cengroup_z8", d = bm, time = "t2", cause = "cause_cr",
       failcode = 1, cov = c("z1", "g2", "g3"), cengroup = "z8")
)
fgc <- list(); fgf <- list(); fgp <- list()
for (sp in fg_specs) {
  d <- na.omit(sp$d)
  fit <- if (is.null(sp$cengroup)) {
    crr(d[[sp$time]], d[[sp$cause]], as.matrix(d[, sp$cov]), failcode = sp$failcode)
  } else {
    crr(d[[sp$time]], d[[sp$cause]], as.matrix(d[, sp$cov]), failcode = sp$failcode,
        cengroup = d[[sp$cengroup]])
  }
  fgc[[length(fgc) + 1]] <- data.frame(case = sp$case, term = sp$cov, coef = unname(fit$coef),
                                       se = sqrt(diag(fit$var)))
  fgf[[length(fgf) + 1]] <- data.frame(case = sp$case, n = fit$n, loglik = fit$loglik,
                                       loglik_null = fit$loglik.null,
                                       converged = fit$converged)
  newx <- rbind(colMeans(d[, sp$cov]), unlist(d[1, sp$cov]))
  pr <- predict(fit, newx)
  for (k in 1:2) {
    fgp[[length(fgp) + 1]] <- data.frame(case = sp$case, row = k, time = pr[, 1],
                                         cif = pr[, k + 1])
  }
}
write_full(bind(fgc), "survival/fg_coef.csv")
write_full(bind(fgf), "survival/fg_fit.csv")
write_full(bind(fgp), "survival/fg_predict.csv")

# ---------------------------------------------------------------- weighted (start, stop] KM
# Non-integer weights with delayed entry or split rows: survfit's IJ variance, no id (each
# person has one row per curve here). lung_lt with weight wt; the jasa tmerge rows by
# transplant with weight 0.5 + (id %% 3) * 0.4 (0 for every 10th id).
# Writes survival/cpw_km.csv.
td$w <- with(td, ifelse(id %% 10 == 0, 0, 0.5 + (id %% 3) * 0.4))
cpw_rows <- list()
for (ct in c("log", "log-log")) {
  fits <- list(
    lung_lt = survfit(Surv(entry, time, dead) ~ 1, data = lung_lt, weights = wt,
                      conf.type = ct),
    jasa_td = survfit(Surv(tstart, tstop, death) ~ transplant, data = td, weights = w,
                      conf.type = ct))
  for (nm in names(fits)) {
    s <- summary(fits[[nm]], censored = TRUE)
    grp <- if (is.null(s$strata)) "all" else sub("transplant=", "", as.character(s$strata))
    cpw_rows[[length(cpw_rows) + 1]] <- data.frame(
      case = nm, conf_type = ct, group = grp, time = s$time, n_risk = s$n.risk,
      n_event = s$n.event, surv = s$surv, std_err = s$std.err, lower = s$lower,
      upper = s$upper)
  }
}
write_full(bind(cpw_rows), "survival/cpw_km.csv")
