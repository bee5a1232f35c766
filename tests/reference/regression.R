# Reference values for harvest.regression (design.glm) from R survey's svyglm,
# regTermTest and predict.svyglm. Run from the repository root:
#   Rscript tests/reference/regression.R
# Writes (tests/reference/):
#   regression_apistrat.csv, regression_apiclus1.csv, regression_nhanes.csv  the data used
#   regression_boot_repweights.csv   fixed bootstrap replicate weights of apistrat (seed 16)
#   regression_coef.csv     case, term, estimate, se, df, statistic, p_value, dispersion
#   regression_wald.csv     case, terms, statistic, df_num, df_den, p_value
#   regression_predict.csv  case, row, estimate, se  (type = "response", first 5 rows)
suppressMessages(library(survey))
here <- "tests/reference"
options(digits = 15)
data(api)
data(nhanes)

strat <- apistrat[, c("snum", "stype", "pw", "fpc", "api00", "ell", "meals", "mobility",
                      "enroll", "sch.wide")]
clus1 <- apiclus1[, c("snum", "dnum", "stype", "pw", "fpc", "api00", "ell", "meals",
                      "mobility", "enroll", "sch.wide")]
names(strat)[names(strat) == "sch.wide"] <- "sch_wide"
names(clus1)[names(clus1) == "sch.wide"] <- "sch_wide"
nh <- nhanes
nh$race_f <- paste0("r", nh$race)
write.csv(strat, file.path(here, "regression_apistrat.csv"), row.names = FALSE)
write.csv(clus1, file.path(here, "regression_apiclus1.csv"), row.names = FALSE)
write.csv(nh, file.path(here, "regression_nhanes.csv"), row.names = FALSE)
farms <- read.csv("data/farms.csv")

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)
dnh <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE,
                 data = nh)
dfarm <- svydesign(id = ~district, strata = ~stratum, weights = ~weight,
                   fpc = ~n_districts, nest = TRUE, data = farms)
jk1 <- as.svrepdesign(dclus1, type = "JK1")
set.seed(16)
boot <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)
rw <- as.data.frame(weights(boot, "analysis"))
names(rw) <- paste0("rw", seq_len(ncol(rw)))
write.csv(rw, file.path(here, "regression_boot_repweights.csv"), row.names = FALSE)
bootw <- svrepdesign(data = strat, weights = ~pw, repweights = rw, type = "bootstrap",
                     combined.weights = TRUE)

# Fits to full convergence (glm's default epsilon 1e-8 leaves SEs off by ~1e-5 relative,
# since R's sandwich uses the weights of the last-but-one iteration); harvest iterates
# until the coefficients stop moving.
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
coef_rows <- list(); wald_rows <- list(); pred_rows <- list()
add <- function(case, fit, terms, newdata) {
  s <- summary(fit)
  ct <- coef(s)
  disp <- if (fit$family$family %in% c("binomial", "poisson")) 1 else
    as.numeric(s$dispersion)
  coef_rows[[case]] <<- data.frame(case = case, term = rownames(ct),
    estimate = ct[, 1], se = ct[, 2], df = fit$df.residual, statistic = ct[, 3],
    p_value = ct[, 4], dispersion = disp)
  for (t in terms) {
    w <- regTermTest(fit, t)
    wald_rows[[paste(case, t)]] <<- data.frame(case = case, terms = t,
      statistic = as.numeric(w$Ftest), df_num = w$df, df_den = w$ddf,
      p_value = as.numeric(w$p))
  }
  p <- predict(fit, newdata = newdata, type = "response")
  pred_rows[[case]] <<- data.frame(case = case, row = seq_along(p) - 1,
    estimate = as.numeric(p), se = sqrt(as.numeric(attr(p, "var"))))
}

add("strat_gaussian", svyglm(api00 ~ ell + meals + mobility, dstrat, control = ctl), c("ell", "meals"),
    strat[1:5, ])
dps <- postStratify(dstrat, ~stype, data.frame(stype = c("E", "H", "M"),
                                               Freq = c(4421, 755, 1018)))
add("poststrat_gaussian", svyglm(api00 ~ ell + meals, dps, control = ctl), c("ell"),
    strat[1:5, ])
add("strat_quasibinomial", svyglm(sch_wide ~ ell + stype, dstrat, family = quasibinomial, control = ctl),
    c("stype"), strat[c(1, 2, 101, 151, 200), ])
add("strat_binomial_interaction",
    svyglm(sch_wide ~ ell * stype, dstrat, family = binomial, control = ctl), c("ell:stype", "stype"),
    strat[c(1, 2, 101, 151, 200), ])
add("clus1_gaussian", svyglm(api00 ~ ell + meals + mobility + stype, dclus1, control = ctl),
    c("stype"), clus1[1:5, ])
add("clus1_poisson", svyglm(enroll ~ stype + meals, dclus1, family = poisson, control = ctl),
    c("stype"), clus1[1:5, ])
add("clus1_quasipoisson", svyglm(enroll ~ stype + meals, dclus1, family = quasipoisson, control = ctl),
    c("stype"), clus1[1:5, ])
add("clus1_subset_E", svyglm(api00 ~ ell + meals, dclus1, subset = stype == "E", control = ctl),
    c("ell"), clus1[1:5, ])
add("nhanes_quasibinomial",
    svyglm(HI_CHOL ~ race_f + agecat + RIAGENDR, dnh, family = quasibinomial, control = ctl),
    c("race_f", "agecat"), nh[c(1, 2, 3, 4, 5), ])
add("jk1_gaussian", svyglm(api00 ~ ell + meals + mobility, jk1, control = ctl), c("ell"), clus1[1:5, ])
add("jk1_quasibinomial", svyglm(sch_wide ~ ell + meals, jk1, family = quasibinomial, control = ctl),
    c("meals"), clus1[1:5, ])
add("jk1_subset_E", svyglm(api00 ~ ell + meals, jk1, subset = stype == "E", control = ctl), c("ell"),
    clus1[1:5, ])
add("boot_quasibinomial", svyglm(sch_wide ~ ell + stype, bootw, family = quasibinomial, control = ctl),
    c("stype"), strat[c(1, 2, 101, 151, 200), ])
add("farms_quasibinomial",
    svyglm(interference ~ region + n_pickers, dfarm, family = quasibinomial, control = ctl),
    c("region", "n_pickers"), farms[1:5, ])
add("farms_poisson", svyglm(n_children ~ region + n_pickers, dfarm, family = poisson, control = ctl),
    c("region"), farms[1:5, ])

# the chi-squared form (df = Inf) of regTermTest
fq <- svyglm(interference ~ region + n_pickers, dfarm, family = quasibinomial, control = ctl)
wq <- regTermTest(fq, "region", df = Inf)
wald_rows[["farms_quasibinomial region chisq"]] <- data.frame(case = "farms_quasibinomial",
  terms = "region", statistic = as.numeric(wq$chisq), df_num = wq$df, df_den = Inf,
  p_value = as.numeric(wq$p))

write.csv(do.call(rbind, coef_rows), file.path(here, "regression_coef.csv"),
          row.names = FALSE)
write.csv(do.call(rbind, wald_rows), file.path(here, "regression_wald.csv"),
          row.names = FALSE)
write.csv(do.call(rbind, pred_rows), file.path(here, "regression_predict.csv"),
          row.names = FALSE)
