# Reference values for harvest.weighting (tests/test_weighting.py), R survey 4.x.
# Rscript tests/reference/weighting.R  -> tests/reference/weighting.csv, apistrat.csv
library(survey)
data(api)
write.csv(apistrat[, c("snum", "stype", "dnum", "sch.wide", "fpc", "pw", "api00", "api99",
                       "enroll")], "tests/reference/weighting_apistrat.csv", row.names = FALSE)
d <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_sw <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1200, 4994))
designs <- list(
  poststratify = postStratify(d, ~stype, pop_stype),
  rake = rake(d, list(~stype, ~sch.wide), list(pop_stype, pop_sw),
              control = list(maxit = 50, epsilon = 1e-9)),
  linear = calibrate(d, ~stype + api99, c(6194, 755, 1018, 3914069)),
  raking = calibrate(d, ~stype + api99, c(6194, 755, 1018, 3914069), calfun = "raking"),
  logit = calibrate(d, ~stype + api99, c(6194, 755, 1018, 3914069), calfun = "logit",
                    bounds = c(0.7, 1.7))
)
out <- NULL
for (nm in names(designs)) {
  x <- designs[[nm]]
  m <- svymean(~api00, x); t <- svytotal(~enroll, x)
  b <- svyby(~api00, ~sch.wide, x, svymean)
  out <- rbind(out,
    data.frame(design = nm, stat = "mean_api00", domain = "", estimate = unname(coef(m)), se = unname(SE(m))),
    data.frame(design = nm, stat = "total_enroll", domain = "", estimate = unname(coef(t)), se = unname(SE(t))),
    data.frame(design = nm, stat = "mean_api00_by_sch.wide", domain = as.character(b$sch.wide),
               estimate = unname(coef(b)), se = unname(SE(b))))
}
write.csv(out, "tests/reference/weighting.csv", row.names = FALSE)

# ---- replicate designs, nonresponse, chained steps: weighting_replicate.csv ----------------
# Rscript tests/reference/weighting.R also writes weighting_apiclus1.csv,
# weighting_boot.csv (R's subbootstrap weights of apiclus1) and weighting_replicate.csv.
# R's trimWeights() of a replicate design does not trim the full-sample weights (it sets
# design$prob), so trimming and nonresponse of replicate designs are computed by hand below:
# the survey.design2 algorithm applied to every replicate's weights (rows with weight > 0).
tot <- c(6194, 755, 1018, 3914069)
apistrat$yes <- as.integer(apistrat$sch.wide == "Yes")
apiclus1$yes <- as.integer(apiclus1$sch.wide == "Yes")
apistrat$resp <- as.integer(apistrat$snum %% 7 != 0)
apiclus1$resp <- as.integer(apiclus1$snum %% 5 != 2)
write.csv(apiclus1[, c("snum", "stype", "dnum", "sch.wide", "fpc", "pw", "api00", "api99",
                       "enroll")], "tests/reference/weighting_apiclus1.csv", row.names = FALSE)
dst <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dcl <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
set.seed(15)
bcl <- as.svrepdesign(dcl, type = "subbootstrap", replicates = 60)
bw <- weights(bcl, "analysis")
colnames(bw) <- paste0("rw", seq_len(ncol(bw)))
write.csv(cbind(snum = apiclus1$snum, round(bw, 10)), "tests/reference/weighting_boot.csv",
          row.names = FALSE)
bcl <- svrepdesign(data = apiclus1, weights = ~pw, repweights = round(bw, 10),
                   type = "bootstrap", scale = bcl$scale, rscales = bcl$rscales,
                   combined.weights = TRUE)

trimw <- function(w, lo = -Inf, hi = Inf, strict = FALSE) {
  for (it in 1:(if (strict) 100 else 1)) {
    act <- w > 0
    out <- act & (w < lo | w > hi)
    if (!any(out)) break
    inside <- act & !out
    tw <- ifelse(out, pmin(pmax(w, lo), hi), w)
    w <- ifelse(inside, tw + sum(w - tw) / sum(inside), tw)
  }
  w
}
nrw <- function(w, r, cell) {
  ratio <- tapply(w, cell, sum) / tapply(w * r, cell, sum)
  as.vector(w * r * ratio[as.character(cell)])
}
by_hand <- function(rep, fun) {   # a replicate design with fun() applied to every weight
  rw <- apply(as.matrix(weights(rep, "analysis")), 2, fun)
  svrepdesign(data = rep$variables, weights = fun(weights(rep, "sampling")), repweights = rw,
              type = "other", scale = rep$scale, rscales = rep$rscales,
              combined.weights = TRUE, mse = rep$mse)
}
rep_stats <- function(x) {
  m <- svymean(~api00, x); t <- svytotal(~enroll, x); p <- svymean(~yes, x)
  r <- svyratio(~api00, ~api99, x)
  b <- svyby(~api00, ~sch.wide, x, svymean)
  bt <- svyby(~enroll, ~stype, x, svytotal)
  rbind(
    data.frame(stat = "mean_api00", domain = "", estimate = as.vector(coef(m)), se = as.vector(SE(m))),
    data.frame(stat = "total_enroll", domain = "", estimate = as.vector(coef(t)), se = as.vector(SE(t))),
    data.frame(stat = "prop_yes", domain = "", estimate = as.vector(coef(p)), se = as.vector(SE(p))),
    data.frame(stat = "ratio_api00_api99", domain = "", estimate = as.vector(coef(r)), se = as.vector(SE(r))),
    data.frame(stat = "mean_api00_by_sch.wide", domain = as.character(b$sch.wide),
               estimate = as.vector(coef(b)), se = as.vector(SE(b))),
    data.frame(stat = "total_enroll_by_stype", domain = as.character(bt$stype),
               estimate = as.vector(coef(bt)), se = as.vector(SE(bt))))
}
weightings <- function(x, bounds, logit_bounds, upper) {
  list(
    none = x,
    poststratify = postStratify(x, ~stype, pop_stype),
    rake = rake(x, list(~stype, ~sch.wide), list(pop_stype, pop_sw),
                control = list(maxit = 50, epsilon = 1e-9)),
    linear = calibrate(x, ~stype + api99, tot, compress = FALSE),
    raking = calibrate(x, ~stype + api99, tot, compress = FALSE, calfun = "raking"),
    logit = calibrate(x, ~stype + api99, tot, compress = FALSE, calfun = "logit", bounds = logit_bounds),
    linear_bounded = calibrate(x, ~stype + api99, tot, compress = FALSE, bounds = bounds),
    ps_trim = if (inherits(x, "svyrep.design"))
      by_hand(postStratify(x, ~stype, pop_stype), function(w) trimw(w, hi = upper, strict = TRUE))
    else trimWeights(postStratify(x, ~stype, pop_stype), upper = upper, strict = TRUE),
    nonresponse = if (inherits(x, "svyrep.design"))
      by_hand(x, function(w) nrw(w, x$variables$resp, x$variables$stype)) else NULL)
}
cases <- list(
  list(data = "apistrat", kind = "taylor", x = dst, bounds = c(0.95, 1.04),
       logit = c(0.7, 1.7), upper = 40),
  list(data = "apistrat", kind = "jkn", x = as.svrepdesign(dst, type = "JKn"),
       bounds = c(0.95, 1.04), logit = c(0.7, 1.7), upper = 40),
  list(data = "apiclus1", kind = "taylor", x = dcl, bounds = c(0.41, 3),
       logit = c(0.2, 3), upper = 45),
  list(data = "apiclus1", kind = "jk1", x = as.svrepdesign(dcl, type = "JK1"),
       bounds = c(0.41, 3), logit = c(0.2, 3), upper = 45),
  list(data = "apiclus1", kind = "bootstrap", x = bcl, bounds = c(0.1, 10),
       logit = c(0.05, 10), upper = 45))
out <- NULL
for (cs in cases) {
  ws <- withCallingHandlers(weightings(cs$x, cs$bounds, cs$logit, cs$upper),
          warning = function(w) stop(paste(cs$data, cs$kind, conditionMessage(w))))
  for (nm in names(ws)) if (!is.null(ws[[nm]]))
    out <- rbind(out, data.frame(data = cs$data, kind = cs$kind, design = nm,
                                 rep_stats(ws[[nm]])))
}

# nonresponse on Taylor designs: the weighting-class estimator sum_c N_c / N_cr * T_cr(y) as a
# nonlinear contrast of totals (svycontrast: its linearisation is the delta method)
nr_taylor <- function(x, dname) {
  v <- x$variables
  cells <- sort(unique(as.character(v$stype)))
  doms <- list(all = rep(1, nrow(v)), No = as.numeric(v$sch.wide == "No"),
               Yes = as.numeric(v$sch.wide == "Yes"))
  doms_t <- lapply(setNames(cells, cells), function(s) as.numeric(v$stype == s))
  ys <- list(api00 = v$api00, enroll = v$enroll, yes = v$yes, api99 = v$api99, one = 1)
  nm <- c()
  for (c in cells) {
    a <- as.numeric(v$stype == c)
    v[[paste0("A_", c)]] <- a
    for (y in names(ys)) for (dn in names(c(doms, doms_t))) {
      col <- paste0("T_", y, "_", dn, "_", c)
      v[[col]] <- v$resp * a * ys[[y]] * c(doms, doms_t)[[dn]]
      nm <- c(nm, col)
    }
  }
  x$variables <- v
  f <- as.formula(paste("~", paste(c(paste0("A_", cells), nm), collapse = "+")))
  tt <- svytotal(f, x)
  adj <- function(y, dn) paste0("(", paste0("A_", cells, "/T_one_all_", cells, "*T_", y, "_",
                                            dn, "_", cells, collapse = "+"), ")")
  ex <- list(mean_api00 = paste(adj("api00", "all"), "/", adj("one", "all")),
             total_enroll = adj("enroll", "all"),
             prop_yes = paste(adj("yes", "all"), "/", adj("one", "all")),
             ratio_api00_api99 = paste(adj("api00", "all"), "/", adj("api99", "all")),
             `mean_api00_by_sch.wide|No` = paste(adj("api00", "No"), "/", adj("one", "No")),
             `mean_api00_by_sch.wide|Yes` = paste(adj("api00", "Yes"), "/", adj("one", "Yes")))
  for (s in cells) ex[[paste0("total_enroll_by_stype|", s)]] <- adj("enroll", s)
  cc <- svycontrast(tt, lapply(ex, function(e) parse(text = e)[[1]]))
  key <- strsplit(names(ex), "|", fixed = TRUE)
  data.frame(data = dname, kind = "taylor", design = "nonresponse",
             stat = sapply(key, `[`, 1), domain = sapply(key, function(k) c(k, "")[2]),
             estimate = as.vector(coef(cc)), se = as.vector(SE(cc)))
}
out <- rbind(out, nr_taylor(dst, "apistrat"), nr_taylor(dcl, "apiclus1"))
rownames(out) <- NULL
write.csv(out, "tests/reference/weighting_replicate.csv", row.names = FALSE)
