# Reference values for harvest's Taylor-linearised estimates, from R survey.
#
# Run from the repository root:   Rscript tests/reference/survey_taylor.R
# (R >= 4 with survey 4.1; tested with survey 4.1.1.)
#
# Writes, next to this script:
#   api_apistrat.csv, api_apiclus1.csv, api_apiclus2.csv   R's api data (the columns used)
#   mission_taylor.csv   a stratified clustered sample generated here (set.seed)
#   survey_taylor.csv    estimates, se, deff, df, n and intervals for every case below
#
# Every case is one design, one lonely-PSU policy, one estimator, one variable and one
# set of `by` columns. For each domain:
#   estimate, se, deff  from svyby(..., deff=TRUE) (or svymean/svytotal/svyratio
#                        without by), na.rm=TRUE where the variable has NAs;
#   df                   degf() of the design restricted to the domain;
#   n                    rows of the domain with a non-missing value;
#   ci_low, ci_high      svyciprop(method="logit", df=df) for proportions,
#                        confint(..., df=df) for the others;
#   ci_<method>_low/high svyciprop with the other R methods (xlogit, beta, mean,
#                        likelihood, asin), for proportions.

suppressMessages(library(survey))
options(digits = 17)
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))

data(api)
yn <- function(x) as.integer(x == "Yes")
prep_api <- function(d, fpc_col) {
  out <- data.frame(
    snum = d$snum, dnum = d$dnum, stype = as.character(d$stype), pw = d$pw,
    fpc = d[[fpc_col]], api00 = d$api00, api99 = d$api99, enroll = d$enroll,
    meals = d$meals, sch_wide = yn(d$sch.wide), awards = yn(d$awards),
    both = as.character(d$both), stringsAsFactors = FALSE)
  out
}
apistrat_ <- prep_api(apistrat, "fpc")
apiclus1_ <- prep_api(apiclus1, "fpc")
apiclus2_ <- prep_api(apiclus2, "fpc1")
write.csv(apistrat_, file.path(here, "api_apistrat.csv"), row.names = FALSE)
write.csv(apiclus1_, file.path(here, "api_apiclus1.csv"), row.names = FALSE)
write.csv(apiclus2_, file.path(here, "api_apiclus2.csv"), row.names = FALSE)

# ---- a stratified clustered sample of our own --------------------------------------------
# Strata: year x region (10 strata, one of them with a single sampled district); PSUs:
# districts whose labels repeat across strata (so nest=TRUE matters); fpc: districts in
# the stratum's population; fields within districts with unequal weights; 0/1 indicators
# with missing values.
set.seed(20241124)
regions <- c("Ahal", "Balkan", "Dashoguz", "Lebap", "Mary")
parts <- list()
for (yr in c(2023, 2024)) {
  for (r in regions) {
    N_h <- sample(8:14, 1)
    n_h <- if (yr == 2024 && r == "Balkan") 1 else sample(2:4, 1)
    for (dd in sample(seq_len(N_h), n_h)) {
      m <- sample(4:10, 1)
      M <- m + sample(5:40, 1)
      re <- rnorm(1, 0, 0.8)
      p_child <- plogis(-1.3 + re - 0.4 * (yr == 2024))
      p_civil <- plogis(-1.0 + 0.5 * re)
      pickers <- rpois(m, 18) + 1
      parts[[length(parts) + 1]] <- data.frame(
        year = yr, region = r, district = dd, n_districts = N_h,
        weight = (N_h / n_h) * (M / m) * runif(m, 0.8, 1.25),
        round = sample(1:4, m, replace = TRUE),
        child_labour = rbinom(m, 1, p_child),
        civil_servants = rbinom(m, 1, p_civil),
        n_pickers = pickers,
        n_children = rpois(m, pickers * p_child * 0.3),
        amount = round(exp(rnorm(m, 5 + 0.3 * re, 0.6)), 2),
        stringsAsFactors = FALSE)
    }
  }
}
mission <- do.call(rbind, parts)
mission$child_labour[sample(nrow(mission), 12)] <- NA
mission$amount[sample(nrow(mission), 9)] <- NA
write.csv(mission, file.path(here, "mission_taylor.csv"), row.names = FALSE)

# ---- the cases -------------------------------------------------------------------------
designs <- list(
  apistrat = function() svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc,
                                  data = apistrat_),
  apiclus1 = function() svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1_),
  apiclus1_noweights = function() svydesign(ids = ~dnum, fpc = ~fpc, data = apiclus1_),
  apiclus2 = function() svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus2_),
  apisrs_nofpc = function() svydesign(ids = ~1, weights = ~pw, data = apistrat_),
  mission = function() svydesign(ids = ~district, strata = ~interaction(year, region), weights = ~weight,
                                 fpc = ~n_districts, nest = TRUE, data = mission)
)

# svyciprop methods besides "logit", under harvest's names
r_methods <- list(xlogit = "xlogit", korn_graubard = "beta", wald = "mean",
                  likelihood = "likelihood", asin = "asin")

rows <- list()
add_case <- function(dname, policy, subset_name, kind, var, den, by) {
  options(survey.lonely.psu = policy)
  d <- designs[[dname]]()
  if (subset_name == "round_le_2") d <- subset(d, round <= 2)
  dat <- d$variables
  has_na <- anyNA(dat[[var]]) || (!is.null(den) && anyNA(dat[[den]]))
  f <- as.formula(paste0("~", var))
  FUN <- switch(kind, proportion = svymean, mean = svymean, total = svytotal,
                ratio = svyratio)
  extra <- if (kind == "ratio") list(denominator = as.formula(paste0("~", den))) else list()
  if (length(by)) {
  byf <- as.formula(paste0("~", paste(by, collapse = "+")))
    res <- do.call(svyby, c(list(f, byf, d, FUN, deff = TRUE, na.rm = has_na), extra))
    est <- coef(res); se <- SE(res); de <- deff(res)
    keys <- res[, by, drop = FALSE]
  } else {
    res <- if (kind == "ratio") {
      svyratio(f, extra$denominator, d, deff = TRUE, na.rm = has_na)
    } else FUN(f, d, deff = TRUE, na.rm = has_na)
    est <- coef(res); se <- SE(res); de <- deff(res)
    keys <- data.frame(row.names = 1)
  }
  for (i in seq_along(est)) {
    inside <- rep(TRUE, nrow(dat))
    for (b in by) inside <- inside & (dat[[b]] == keys[i, b])
    ddom <- d[inside, ]
    df <- degf(ddom)
    ok <- !is.na(dat[[var]][inside])
    if (!is.null(den)) ok <- ok & !is.na(dat[[den]][inside])
    other <- setNames(rep(NA_real_, 2 * length(r_methods)),
                      paste0("ci_", rep(names(r_methods), each = 2), c("_low", "_high")))
    if (kind == "proportion") {
      ci <- svyciprop(f, ddom, method = "logit", df = df)
      lo <- attr(ci, "ci")[1]; hi <- attr(ci, "ci")[2]
      for (m in names(r_methods)) {
        cim <- tryCatch(attr(svyciprop(f, ddom, method = r_methods[[m]], df = df), "ci"),
                        error = function(e) c(NA_real_, NA_real_))
        other[paste0("ci_", m, c("_low", "_high"))] <- cim
      }
    } else {
      one <- if (kind == "ratio") {
        svyratio(f, extra$denominator, ddom, na.rm = has_na)
      } else FUN(f, ddom, na.rm = has_na)
      ci <- confint(one, df = df)
      lo <- ci[1, 1]; hi <- ci[1, 2]
    }
    rows[[length(rows) + 1]] <<- data.frame(
      design = dname, policy = policy, subset = subset_name, kind = kind,
      variable = var, denominator = if (is.null(den)) "" else den,
      by = paste(by, collapse = "+"),
      dom1 = if (length(by) >= 1) as.character(keys[i, by[1]]) else "",
      dom2 = if (length(by) >= 2) as.character(keys[i, by[2]]) else "",
      estimate = unname(est[i]), se = unname(se[i]), deff = unname(as.vector(de)[i]),
      df = df, n = sum(ok), ci_low = unname(lo), ci_high = unname(hi),
      as.list(other), stringsAsFactors = FALSE, check.names = FALSE)
  }
}

api_bys <- list(character(0), "both", c("stype", "both"))
for (dname in c("apistrat", "apiclus1", "apiclus1_noweights", "apiclus2", "apisrs_nofpc")) {
  for (by in api_bys) {
    for (v in c("sch_wide", "awards")) add_case(dname, "fail", "", "proportion", v, NULL, by)
    for (v in c("api00", "enroll", "meals")) add_case(dname, "fail", "", "mean", v, NULL, by)
    add_case(dname, "fail", "", "total", "enroll", NULL, by)
    add_case(dname, "fail", "", "ratio", "api00", "api99", by)
  }
}
mission_bys <- list(character(0), "region", "year", c("year", "region"), "round")
for (policy in c("remove", "certainty", "adjust", "average")) {
  for (by in mission_bys) {
    for (v in c("child_labour", "civil_servants")) {
      add_case("mission", policy, "", "proportion", v, NULL, by)
    }
    add_case("mission", policy, "", "mean", "amount", NULL, by)
    add_case("mission", policy, "", "total", "n_children", NULL, by)
    add_case("mission", policy, "", "ratio", "n_children", "n_pickers", by)
  }
  for (by in list(character(0), "region", c("year", "region"))) {
    add_case("mission", policy, "round_le_2", "proportion", "child_labour", NULL, by)
    add_case("mission", policy, "round_le_2", "mean", "amount", NULL, by)
    add_case("mission", policy, "round_le_2", "total", "n_children", NULL, by)
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "survey_taylor.csv"), row.names = FALSE)
cat("wrote", nrow(out), "reference rows\n")

# ---- full covariance across domains: svyby(..., covmat=TRUE) ------------------------------
# (what comparisons between years and regions use). Long format: one row per pair.
cov_rows <- list()
add_cov <- function(dname, policy, kind, var, den, by) {
  options(survey.lonely.psu = policy)
  d <- designs[[dname]]()
  f <- as.formula(paste0("~", var))
  byf <- as.formula(paste0("~", paste(by, collapse = "+")))
  FUN <- switch(kind, proportion = svymean, mean = svymean, total = svytotal,
                ratio = svyratio)
  extra <- if (kind == "ratio") list(denominator = as.formula(paste0("~", den))) else list()
  res <- do.call(svyby, c(list(f, byf, d, FUN, covmat = TRUE), extra))
  v <- vcov(res)
  lab <- do.call(paste, c(lapply(by, function(b) as.character(res[[b]])), sep = "|"))
  k <- length(lab)
  cov_rows[[length(cov_rows) + 1]] <<- data.frame(
    design = dname, policy = policy, kind = kind, variable = var,
    denominator = if (is.null(den)) "" else den, by = paste(by, collapse = "+"),
    row = rep(lab, times = k), col = rep(lab, each = k), cov = as.vector(v),
    stringsAsFactors = FALSE)
}
add_cov("apiclus1", "fail", "mean", "api00", NULL, "stype")
add_cov("apistrat", "fail", "proportion", "sch_wide", NULL, c("stype", "both"))
add_cov("apiclus2", "fail", "ratio", "api00", "api99", "both")
for (policy in c("remove", "adjust", "average")) {
  add_cov("mission", policy, "proportion", "civil_servants", NULL, c("year", "region"))
  add_cov("mission", policy, "total", "n_children", NULL, "region")
  add_cov("mission", policy, "ratio", "n_children", "n_pickers", "year")
}
cov_out <- do.call(rbind, cov_rows)
write.csv(cov_out, file.path(here, "survey_taylor_covmat.csv"), row.names = FALSE)
cat("wrote", nrow(cov_out), "covariance entries\n")
