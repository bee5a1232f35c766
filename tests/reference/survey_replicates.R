# Reference values for harvest's replicate designs, from R survey (>= 4.1).
#
#   cd tests/reference && Rscript survey_replicates.R
#
# Writes tests/reference/replicates/*.csv: the data sets used (api data shipped with R
# survey, and a generated design with two PSUs per stratum for BRR/Fay), the replicate
# weights R made where a test rebuilds a design from them, R's Hadamard matrices, and the
# estimates, standard errors, degrees of freedom and intervals (results.csv).
suppressPackageStartupMessages(library(survey))
data(api)
out <- "replicates"
dir.create(out, showWarnings = FALSE)
options(survey.replicates.mse = FALSE, survey.lonely.psu = "fail")
wcsv <- function(x, f) write.csv(x, file.path(out, f), row.names = FALSE)

res <- list()
add <- function(case, statistic, indicator, domain, est, se, df = NA, lo = NA, hi = NA,
                deff = NA) {
  res[[length(res) + 1]] <<- data.frame(case = case, statistic = statistic,
    indicator = indicator, domain = as.character(domain), estimate = as.numeric(est),
    se = as.numeric(se), df = as.numeric(df), ci_low = as.numeric(lo),
    ci_high = as.numeric(hi), deff = as.numeric(deff))
}
# overall mean/proportion/total/ratio + domains + logit interval of a 0/1 variable
run <- function(case, rep, y, x, dom) {
  message("case ", case)
  fy <- as.formula(paste0("~", y)); fx <- as.formula(paste0("~", x))
  fd <- as.formula(paste0("~", dom))
  m <- svymean(fy, rep, deff = TRUE)
  add(case, "mean", y, "", coef(m), SE(m), degf(rep), deff = deff(m))
  m <- svymean(fx, rep, deff = TRUE)
  add(case, "mean", x, "", coef(m), SE(m), degf(rep), deff = deff(m))
  t <- svytotal(fx, rep)
  add(case, "total", x, "", coef(t), SE(t), degf(rep))
  r <- svyratio(fy, fx, rep)
  add(case, "ratio", paste0(y, "/", x), "", coef(r), SE(r), degf(rep))
  ci <- svyciprop(fy, rep, method = "logit")
  add(case, "logit", y, "", coef(ci), SE(ci), degf(rep), confint(ci)[1], confint(ci)[2])
  b <- svyby(fy, fd, rep, svymean)
  lev <- as.character(b[[dom]])
  dfs <- sapply(lev, function(l) degf(rep[as.character(rep$variables[[dom]]) == l, ]))
  add(case, "mean", y, lev, coef(b), SE(b), dfs)
  b <- svyby(fx, fd, rep, svymean)
  add(case, "mean", x, lev, coef(b), SE(b), dfs)
  b <- svyby(fx, fd, rep, svytotal)
  add(case, "total", x, lev, coef(b), SE(b), dfs)
  b <- svyby(fy, fd, rep, svyratio, denominator = fx)
  add(case, "ratio", paste0(y, "/", x), lev, coef(b), SE(b), dfs)
  # missing values: x_na is x with every 7th row missing (na.rm = TRUE)
  m <- svymean(~x_na, rep, na.rm = TRUE)
  add(case, "mean", "x_na", "", coef(m), SE(m), degf(rep))
  b <- svyby(~x_na, fd, rep, svymean, na.rm = TRUE)
  add(case, "mean", "x_na", lev, coef(b), SE(b), dfs)
  b <- svyby(fy, fd, rep, svyciprop, method = "logit", vartype = "ci")
  add(case, "logit", y, lev, coef(b), NA, dfs, b[["ci_l"]], b[["ci_u"]])
  # the other svyciprop methods use the replicate SE of the mean
  # (R fails on some domains with an estimate of 0 or 1; those rows are left out)
  for (m in c("xlogit", "asin", "beta", "mean", "likelihood")) {
    ci <- svyciprop(fy, rep, method = m)
    add(case, paste0("ci_", m), y, "", coef(ci), NA, degf(rep), confint(ci)[1], confint(ci)[2])
    for (l in seq_along(lev)) {
      sub <- rep[as.character(rep$variables[[dom]]) == lev[l], ]
      ci <- tryCatch(svyciprop(fy, sub, method = m), error = function(e) NULL)
      if (!is.null(ci))
        add(case, paste0("ci_", m), y, lev[l], coef(ci), NA, dfs[l], confint(ci)[1],
            confint(ci)[2])
    }
  }
}

# -- JK1: apiclus1, one-stage cluster sample of districts with fpc -------------------------
clus1 <- apiclus1[, c("dnum", "snum", "stype", "pw", "fpc", "api00", "api99", "enroll",
                      "sch.wide")]
clus1$yes <- as.numeric(clus1$sch.wide == "Yes")
clus1$sch.wide <- NULL
with_na <- function(d, x) ifelse(seq_len(nrow(d)) %% 7 == 3, NA, d[[x]])
clus1$x_na <- with_na(clus1, "api00")
wcsv(clus1, "apiclus1.csv")
d <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)
run("jk1_fpc", as.svrepdesign(d, type = "JK1"), "yes", "api00", "stype")
d0 <- svydesign(id = ~dnum, weights = ~pw, data = clus1)
run("jk1", as.svrepdesign(d0, type = "JK1"), "yes", "api00", "stype")

# -- JKn: apistrat, stratified element sample with fpc; lonely-PSU variants ----------------
strat <- apistrat[, c("snum", "stype", "pw", "fpc", "api00", "api99", "enroll", "sch.wide",
                      "awards")]
strat$yes <- as.numeric(strat$sch.wide == "Yes")
strat$sch.wide <- NULL
strat$awards <- as.character(strat$awards)
strat$st <- as.character(strat$stype)
strat$st[c(7, 120)] <- c("Z", "Y")           # two strata with a single PSU
strat$fpc2 <- ifelse(strat$st %in% c("Z", "Y"), 50, strat$fpc)
strat$x_na <- with_na(strat, "api00")
wcsv(strat, "apistrat.csv")
d <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
run("jkn_fpc", as.svrepdesign(d, type = "JKn"), "yes", "api00", "awards")
d0 <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat)
run("jkn", as.svrepdesign(d0, type = "JKn"), "yes", "api00", "awards")
for (lp in c("remove", "average", "adjust", "certainty")) {
  options(survey.lonely.psu = lp)
  dl <- svydesign(id = ~1, strata = ~st, weights = ~pw, fpc = ~fpc2, data = strat)
  run(paste0("jkn_lonely_", lp), as.svrepdesign(dl, type = "JKn"), "yes", "api00", "awards")
}
options(survey.lonely.psu = "fail")

# -- BRR and Fay: generated design, 12 strata x 2 PSUs, rows shuffled ------------------------
set.seed(20241124)
H <- 12
psu_n <- sample(3:8, 2 * H, replace = TRUE)
pairs <- data.frame(stratum = paste0("s", rep(1:H, each = 2)), psu = sample(100:999, 2 * H))
pairs$effect <- rnorm(2 * H, 0, 0.8)
brr <- pairs[rep(seq_len(2 * H), psu_n), ]
brr$w <- round(runif(nrow(brr), 5, 25), 2)
brr$yes <- rbinom(nrow(brr), 1, plogis(-0.6 + brr$effect))
brr$x <- round(rgamma(nrow(brr), 4, 0.5) + 3 * brr$effect + 5, 3)
brr$dom <- sample(c("a", "b", "c"), nrow(brr), replace = TRUE, prob = c(0.5, 0.3, 0.2))
brr$effect <- NULL
brr <- brr[sample(nrow(brr)), ]
brr$x_na <- with_na(brr, "x")
wcsv(brr, "brr_data.csv")
d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = brr)
rb <- as.svrepdesign(d, type = "BRR")
run("brr", rb, "yes", "x", "dom")
rf <- as.svrepdesign(d, type = "Fay", fay.rho = 0.3)
run("fay", rf, "yes", "x", "dom")
rf5 <- as.svrepdesign(d, type = "Fay", fay.rho = 0.5)
run("fay05", rf5, "yes", "x", "dom")
# R's factor matrices (PSU x replicate), rows in order of first appearance of the PSU
ix <- !duplicated(brr$psu)
fb <- as.data.frame(weights(rb, "replication")[ix, ]); fb$psu <- brr$psu[ix]
wcsv(fb, "brr_factors.csv")
ff <- as.data.frame(weights(rf, "replication")[ix, ]); ff$psu <- brr$psu[ix]
wcsv(ff, "fay_factors.csv")

# -- Hadamard matrices of survey:::hadamard ------------------------------------------------
had <- do.call(rbind, lapply(c(1:40, 43, 50, 60, 63, 64, 71, 99, 100, 130, 200), function(n) {
  M <- survey:::hadamard(n)
  data.frame(n = n, row = seq_len(nrow(M)), bits = apply(M, 1, paste, collapse = ""))
}))
wcsv(had, "hadamard.csv")

# -- user-supplied replicate weights (svrepdesign) ----------------------------------------
# (1) post-stratified JK1 weights: they vary within PSU
d <- svydesign(id = ~dnum, weights = ~pw, data = clus1)
ps <- postStratify(as.svrepdesign(d, type = "JK1"), ~stype,
                   data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))
A <- unclass(weights(ps, "analysis"))
colnames(A) <- paste0("repw_", seq_len(ncol(A)))
sup <- cbind(clus1, w = weights(ps, "sampling"), A)
wcsv(sup, "supplied_jk1.csv")
s1 <- svrepdesign(data = sup, repweights = "repw_[0-9]+", weights = ~w, type = "JK1",
                  scale = ps$scale, combined.weights = TRUE)
run("supplied_jk1", s1, "yes", "api00", "stype")
s2 <- svrepdesign(data = sup, repweights = "repw_[0-9]+", weights = ~w, type = "JK1",
                  scale = ps$scale, combined.weights = TRUE, mse = TRUE)
run("supplied_jk1_mse", s2, "yes", "api00", "stype")
s3 <- svrepdesign(data = sup, repweights = "repw_[0-9]+", weights = ~w, type = "other",
                  scale = 0.9, rscales = seq(0.5, 1.2, length.out = ncol(A)),
                  combined.weights = TRUE)
run("supplied_other", s3, "yes", "api00", "stype")
# (2) JKn weights with rscales
rj <- as.svrepdesign(svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat),
                     type = "JKn", compress = FALSE)
A <- unclass(weights(rj, "analysis")); colnames(A) <- paste0("jk_", seq_len(ncol(A)))
write.csv(cbind(strat, A), gzfile(file.path(out, "supplied_jkn.csv.gz")), row.names = FALSE)
wcsv(data.frame(rscales = rj$rscales), "supplied_jkn_rscales.csv")
s4 <- svrepdesign(data = cbind(strat, A), repweights = "jk_[0-9]+", weights = ~pw,
                  type = "JKn", scale = 1, rscales = rj$rscales, combined.weights = TRUE)
run("supplied_jkn", s4, "yes", "api00", "awards")
# (3) R's subbootstrap weights, used as supplied bootstrap weights (exact check)
set.seed(1)
rbt <- as.svrepdesign(svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = brr),
                      type = "subbootstrap", replicates = 50, compress = FALSE)
A <- unclass(weights(rbt, "analysis")); colnames(A) <- paste0("bs", seq_len(ncol(A)))
wcsv(cbind(brr, A), "supplied_boot.csv")
run("supplied_boot", rbt, "yes", "x", "dom")

# -- bootstrap within Monte Carlo error: R subbootstrap, 4000 replicates -------------------
set.seed(2)
d <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = transform(clus1,
  stype = as.character(stype)), nest = TRUE)
rb <- as.svrepdesign(d, type = "subbootstrap", replicates = 4000)
run("subboot_4000", rb, "yes", "api00", "stype")
wcsv(data.frame(replicates = 4000), "subboot_replicates.csv")

wcsv(do.call(rbind, res), "results.csv")
cat("wrote", nrow(do.call(rbind, res)), "rows\n")
