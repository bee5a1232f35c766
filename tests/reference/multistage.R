# Reference values for multistage and PPS-without-replacement designs and for
# vcov()/svycontrast() of svyby tables (tests/test_multistage_r.py, test_contrasts_r.py).
# Run from the repository root:  Rscript tests/reference/multistage.R
# Writes tests/reference/multistage_*.csv. R survey >= 4.1.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")
data(api); data(mu284); data(election)
out <- "tests/reference"
rows <- list()
add <- function(case, kind, variable, domain, est, se) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, kind = kind, variable = variable,
                                          domain = domain, estimate = est, se = se)
}
stat <- function(case, kind, x, domain = "") {
  add(case, kind, names(coef(x)), domain, unname(coef(x)), unname(SE(x)))
}
by_table <- function(case, kind, t, var) {
  add(case, kind, var, as.character(t[[1]]), unname(coef(t)), unname(SE(t)))
}

# data the tests read (R's own data sets, written once)
write.csv(mu284, file.path(out, "multistage_mu284.csv"), row.names = FALSE)
write.csv(apiclus2[, c("dnum", "snum", "stype", "fpc1", "fpc2", "pw", "api00", "api99",
                       "enroll", "sch.wide")],
          file.path(out, "multistage_apiclus2.csv"), row.names = FALSE)
write.csv(apiclus1[, c("dnum", "snum", "stype", "fpc", "pw", "api00", "api99", "enroll",
                       "sch.wide")],
          file.path(out, "multistage_apiclus1.csv"), row.names = FALSE)
write.csv(election_pps[, c("County", "Bush", "Kerry", "votes", "p")],
          file.path(out, "multistage_election_pps.csv"), row.names = FALSE)
write.csv(election_jointprob, file.path(out, "multistage_election_jointprob.csv"),
          row.names = FALSE)

# 1. mu284: two-stage, fpc as population sizes (Sarndal et al.)
d <- svydesign(id = ~id1 + id2, fpc = ~n1 + n2, data = mu284)
stat("mu284", "total", svytotal(~y1, d))
stat("mu284", "mean", svymean(~y1, d))
r <- svyratio(~y1, ~n2, d)   # any denominator: a check of the ratio's linearisation
add("mu284", "ratio", "y1/n2", "", coef(r), SE(r))

# 2. apiclus2: two stages, districts then schools, fpc as population sizes
d2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
stat("apiclus2", "mean", svymean(~api00, d2))
stat("apiclus2", "mean", svymean(~enroll, d2, na.rm = TRUE))
stat("apiclus2", "total", svytotal(~enroll, d2, na.rm = TRUE))
r <- svyratio(~api00, ~api99, d2)
add("apiclus2", "ratio", "api00/api99", "", coef(r), SE(r))
apiclus2$yes <- as.numeric(apiclus2$sch.wide == "Yes")
d2 <- update(d2, yes = as.numeric(sch.wide == "Yes"))
stat("apiclus2", "proportion", svymean(~yes, d2))
by_table("apiclus2", "mean", svyby(~api00, ~stype, d2, svymean), "api00")
by_table("apiclus2", "proportion", svyby(~yes, ~stype, d2, svymean), "yes")
# post-stratified and calibrated two-stage designs (residuals at the rows, then the stages)
ps <- postStratify(d2, ~stype, data.frame(stype = c("E", "H", "M"),
                                          Freq = c(4421, 755, 1018)))
stat("apiclus2_poststratified", "mean", svymean(~api00, ps))
stat("apiclus2_poststratified", "total", svytotal(~api99, ps))
cal <- calibrate(d2, ~api99, c(`(Intercept)` = 6194, api99 = 3914069))
stat("apiclus2_calibrated", "mean", svymean(~api00, cal))
# the same with sampling fractions instead of population sizes
apiclus2$f1 <- ave(apiclus2$dnum, FUN = function(x) length(unique(x))) / apiclus2$fpc1
apiclus2$f2 <- ave(apiclus2$snum, apiclus2$dnum, FUN = length) / apiclus2$fpc2
d2f <- svydesign(id = ~dnum + snum, fpc = ~f1 + f2, data = apiclus2)
stat("apiclus2_fraction", "mean", svymean(~api00, d2f))

# 3. stratified two-stage: the bundled farm visits (farms within sampled districts,
# districts sampled within region x year). The data carry N_h (n_districts) but not the
# number of farms M_d in a district; the weights N_h/n_h * M_d/r_d give it back:
# M_d = weight * r_d * n_h / N_h (an integer, checked).
farms <- read.csv("data/farms.csv")
farms$r_d <- ave(farms$weight, farms$stratum, farms$district, FUN = length)
farms$n_h <- ave(as.numeric(factor(farms$district)), farms$stratum,
                 FUN = function(x) length(unique(x)))
farms$n_farms <- round(farms$weight * farms$r_d * farms$n_h / farms$n_districts)
stopifnot(max(abs(farms$n_farms - farms$weight * farms$r_d * farms$n_h /
                  farms$n_districts)) < 1e-4)
df <- svydesign(ids = ~district + farm_id, strata = ~stratum, weights = ~weight,
                fpc = ~n_districts + n_farms, data = farms, nest = TRUE)
d1 <- svydesign(ids = ~district, strata = ~stratum, weights = ~weight,
                fpc = ~n_districts, data = farms, nest = TRUE)
for (v in c("civil_servants_on_farm", "quota_pressure")) {
  f <- as.formula(paste0("~", v))
  stat("farms", "proportion", svymean(f, df))
  stat("farms_onestage", "proportion", svymean(f, d1))
  by_table("farms", "proportion", svyby(f, ~region, df, svymean), v)
}
stat("farms", "total", svytotal(~n_pickers, df))
stat("farms", "mean", svymean(~n_children, df))
r <- svyratio(~n_children, ~n_pickers, df)
add("farms", "ratio", "n_children/n_pickers", "", coef(r), SE(r))
write.csv(farms[, c("stratum", "region", "district", "farm_id", "weight", "n_districts",
                    "n_farms")], file.path(out, "multistage_farms_fpc.csv"),
          row.names = FALSE)

# 4. PPS without replacement: election_pps (inclusion probabilities p)
designs <- list(
  brewer = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = "brewer"),
  overton = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = "overton"),
  ht = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = ppsmat(election_jointprob)),
  with_replacement = svydesign(id = ~1, probs = ~p, data = election_pps))
for (nm in names(designs)) {
  stat(paste0("election_", nm), "total", svytotal(~Bush + Kerry, designs[[nm]]))
  stat(paste0("election_", nm), "mean", svymean(~Bush + Kerry, designs[[nm]]))
  r <- svyratio(~Bush, ~votes, designs[[nm]])
  add(paste0("election_", nm), "ratio", "Bush/votes", "", coef(r), SE(r))
}
# stratified PPS: two made-up strata (alternate rows) of election_pps
e2 <- election_pps; e2$s <- rep(1:2, 20)
for (m in c("brewer", "overton")) {
  ds <- svydesign(id = ~1, strata = ~s, fpc = ~p, data = e2, pps = m)
  stat(paste0("election_strata_", m), "total", svytotal(~Bush + Kerry, ds))
  stat(paste0("election_strata_", m), "mean", svymean(~Bush, ds))
}

# two-stage PPS (Brewer) with unequal first- and second-stage inclusion probabilities
# (made up from apiclus2; rows sorted by cluster, as R's rowsum order needs)
a <- apiclus2
a$p1 <- length(unique(a$dnum)) / a$fpc1 * (1 + (a$dnum %% 3) / 10)
a$p2 <- pmin(1, ave(a$snum, a$dnum, FUN = length) / a$fpc2 * (1 + (a$snum %% 5) / 20))
a <- a[order(a$dnum, a$snum), ]
write.csv(a[, c("dnum", "snum", "p1", "p2", "api00")],
          file.path(out, "multistage_apiclus2_pps.csv"), row.names = FALSE)
db <- svydesign(id = ~dnum + snum, fpc = ~p1 + p2, data = a, pps = "brewer")
stat("apiclus2_brewer", "mean", svymean(~api00, db))
stat("apiclus2_brewer", "total", svytotal(~api00, db))

write.csv(do.call(rbind, rows), file.path(out, "multistage_reference.csv"),
          row.names = FALSE)

# 5. vcov(svyby(covmat=TRUE)) and svycontrast
crow <- list(); vrow <- list()
addv <- function(case, v) {
  g <- expand.grid(row = rownames(v), col = colnames(v), stringsAsFactors = FALSE)
  vrow[[length(vrow) + 1]] <<- data.frame(case = case, g, value = as.vector(v))
}
addc <- function(case, name, x) {
  crow[[length(crow) + 1]] <<- data.frame(case = case, contrast = name,
                                          estimate = unname(coef(x)), se = unname(SE(x)))
}
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
a <- svyby(~api00, ~stype, dclus1, svymean, covmat = TRUE)
addv("apiclus1_mean", vcov(a))
addc("apiclus1_mean", "E - M", svycontrast(a, c(E = 1, M = -1)))
addc("apiclus1_mean", "mean of E, H", svycontrast(a, c(E = 0.5, H = 0.5)))
addc("apiclus1_mean", "E / M", svycontrast(a, quote(E / M)))
addc("apiclus1_mean", "log E - log H", svycontrast(a, quote(log(E) - log(H))))
addc("apiclus1_mean", "E * H / M^2", svycontrast(a, expression(E * H / M^2)))
dclus1 <- update(dclus1, yes = as.numeric(sch.wide == "Yes"))
b <- svyby(~yes, ~stype, dclus1, svymean, covmat = TRUE)
addv("apiclus1_proportion", vcov(b))
addc("apiclus1_proportion", "odds ratio E/H",
     svycontrast(b, quote((E / (1 - E)) / (H / (1 - H)))))
addc("apiclus1_proportion", "H - M", svycontrast(b, c(H = 1, M = -1)))
t2 <- svyby(~api00 + api99, ~stype, dclus1, svytotal, covmat = TRUE)
addv("apiclus1_total2", vcov(t2))
addc("apiclus1_total2", "growth E",
     svycontrast(t2, quote(`E:api00` / `E:api99` - 1)))
r1 <- svyby(~api00, by = ~stype, denominator = ~api99, design = dclus1, FUN = svyratio,
            covmat = TRUE)
addv("apiclus1_ratio", vcov(r1))
addc("apiclus1_ratio", "E - H", svycontrast(r1, c(`E` = 1, `H` = -1)))
d2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
m2 <- svyby(~api00, ~stype, d2, svymean, covmat = TRUE)
addv("apiclus2_mean", vcov(m2))
addc("apiclus2_mean", "E - H", svycontrast(m2, c(E = 1, H = -1)))
addc("apiclus2_mean", "H / E", svycontrast(m2, quote(H / E)))
s <- svymean(~api00 + api99, dclus1)
addv("apiclus1_nobys", vcov(s))
addc("apiclus1_nobys", "api00 - api99", svycontrast(s, c(api00 = 1, api99 = -1)))
write.csv(do.call(rbind, vrow), file.path(out, "multistage_vcov.csv"), row.names = FALSE)
write.csv(do.call(rbind, crow), file.path(out, "multistage_contrast.csv"), row.names = FALSE)
