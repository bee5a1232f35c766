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
