# Reference values for harvest.quantiles: R survey (>= 4.1) svyquantile, every interval
# type and every quantile rule, whole sample and by domain (svyby's subsets), Taylor and
# replicate designs, and the bundled employee data's fees (amount_paid) as worked example.
#
# Run from the repository root:   Rscript tests/reference/quantiles.R
# Writes (CSV, in tests/reference/):
#   quantiles_reference.csv   one row per (case, variable, domain, q, interval, qrule):
#                             estimate, ci_low, ci_high, se (R's diff(ci)/(2 qt)), df
#                             (degf of the design or of the domain's subset); NA where R
#                             gives NaN or stops (uniroot without a sign change)
#   quantiles_jk1.csv         the replicate weights R made (analysis weights, one column
#   quantiles_boot.csv        per replicate, with snum): jk1_* (as.svrepdesign(dclus1,
#                             "JK1")) and boot_* (as.svrepdesign(dstrat, "bootstrap", 50),
#                             seed 16), so harvest uses the very same replicates
#   quantiles_rscales.csv     scale and rscales of both replicate designs
#
# Domains: svyby(~x, ~stype, svyquantile, ...) calls svyquantile on
# design[stype == level, ]; the loop below does the same so that every interval end is
# kept (a check at the end confirms svyby gives the same estimates and SEs).
suppressPackageStartupMessages(library(survey))
stopifnot(packageVersion("survey") >= "4.1")
# the api data as the other reference scripts stored them (tests/reference/api_*.csv), so
# that R and harvest start from the very same doubles (ties in cumulative weights decide
# the "math" and "school" rules)
apistrat <- read.csv("tests/reference/api_apistrat.csv")
apiclus1 <- read.csv("tests/reference/api_apiclus1.csv")

out_dir <- "tests/reference"
intervals_taylor <- c("mean", "beta", "xlogit", "asin", "score")
intervals_rep <- c("mean", "quantile")
qrules <- c("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6",
            "hf7", "hf8", "hf9")
qs <- c(0.25, 0.5, 0.75)

rows <- list()
one <- function(case, design, variable, domain, interval, qrule, quantiles = qs,
                na.rm = FALSE) {
  fit <- tryCatch(
    suppressWarnings(suppressMessages(
      svyquantile(as.formula(paste0("~", variable)), design, quantiles = quantiles,
                  interval.type = interval, qrule = qrule, na.rm = na.rm))),
    error = function(e) NULL)
  # the df svyquantile uses: of the design after na.rm has left out the missing rows
  df <- if (na.rm) degf(design[!is.na(design$variables[[variable]]), ]) else degf(design)
  for (i in seq_along(quantiles)) {
    if (is.null(fit)) {
      v <- c(NA, NA, NA, NA)
    } else {
      m <- fit[[1]]
      v <- as.numeric(m[i, c(1, 2, 3, 4)])
    }
    v[!is.finite(v)] <- NA
    rows[[length(rows) + 1]] <<- data.frame(
      case = case, variable = variable, domain = domain, q = quantiles[i],
      interval = interval, qrule = qrule, estimate = v[1], ci_low = v[2],
      ci_high = v[3], se = v[4], df = df)
  }
}

grid <- function(case, design, variables, by, intervals) {
  for (variable in variables) for (interval in intervals) for (qrule in qrules) {
    one(case, design, variable, "", interval, qrule)
    if (!is.null(by)) {
      levels <- sort(unique(as.character(design$variables[[by]])))
      for (lev in levels) {
        sub <- design[as.character(design$variables[[by]]) == lev, ]
        one(case, sub, variable, lev, interval, qrule)
      }
    }
  }
}

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
grid("apistrat", dstrat, c("api00", "enroll"), "stype", intervals_taylor)
grid("apiclus1", dclus1, c("api00", "enroll"), "stype", intervals_taylor)

# replicate designs: R makes the replicate weights, writes them out, and the reference
# values come from svrepdesign() on the weights read back, so that R and harvest use the
# very same doubles (write.csv keeps 15 digits; ties in cumulative weights matter)
jk1 <- as.svrepdesign(dclus1, type = "JK1")
set.seed(16)
boot <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)
jw <- weights(jk1, "analysis"); colnames(jw) <- paste0("jk1_", seq_len(ncol(jw)))
bw <- weights(boot, "analysis"); colnames(bw) <- paste0("boot_", seq_len(ncol(bw)))
write.csv(data.frame(snum = apiclus1$snum, jw), file.path(out_dir, "quantiles_jk1.csv"),
          row.names = FALSE)
write.csv(data.frame(snum = apistrat$snum, bw), file.path(out_dir, "quantiles_boot.csv"),
          row.names = FALSE)
write.csv(rbind(
  data.frame(design = "jk1", scale = jk1$scale, replicate = seq_along(jk1$rscales),
             rscales = jk1$rscales),
  data.frame(design = "boot", scale = boot$scale, replicate = seq_along(boot$rscales),
             rscales = boot$rscales)),
  file.path(out_dir, "quantiles_rscales.csv"), row.names = FALSE)
jw <- read.csv(file.path(out_dir, "quantiles_jk1.csv"))
bw <- read.csv(file.path(out_dir, "quantiles_boot.csv"))
rsc <- read.csv(file.path(out_dir, "quantiles_rscales.csv"))
jk1 <- svrepdesign(data = cbind(apiclus1, jw[, -1]), repweights = "jk1_[0-9]+",
                   weights = ~pw, type = "JK1", combined.weights = TRUE,
                   scale = rsc$scale[rsc$design == "jk1"][1],
                   rscales = rsc$rscales[rsc$design == "jk1"])
boot <- svrepdesign(data = cbind(apistrat, bw[, -1]), repweights = "boot_[0-9]+",
                    weights = ~pw, type = "bootstrap", combined.weights = TRUE,
                    scale = rsc$scale[rsc$design == "boot"][1],
                    rscales = rsc$rscales[rsc$design == "boot"])
grid("apiclus1_jk1", jk1, c("api00", "enroll"), "stype", intervals_rep)
grid("apistrat_boot", boot, c("api00", "enroll"), "stype", intervals_rep)

# missing values left out (na.rm = TRUE; harvest na="drop"): api00 missing in rows 3, 50
# and 120 of apistrat
apina <- apistrat
apina$api00[c(3, 50, 120)] <- NA
dna <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apina, fpc = ~fpc)
for (interval in c("mean", "beta", "score")) for (qrule in c("math", "hf7")) {
  one("apistrat_na", dna, "api00", "", interval, qrule, na.rm = TRUE)
  for (lev in c("E", "H", "M")) {
    one("apistrat_na", dna[apina$stype == lev, ], "api00", lev, interval, qrule,
        na.rm = TRUE)
  }
}

# the worked example: fees paid for replacement pickers by the employees who paid
emp <- read.csv("data/employees.csv", stringsAsFactors = FALSE)
demp <- svydesign(ids = ~district, strata = ~stratum, weights = ~weight,
                  fpc = ~n_districts, data = emp, nest = TRUE)
payers <- subset(demp, paid_replacement == 1)
for (interval in intervals_taylor) for (qrule in c("math", "school", "hf7")) {
  for (yr in c(2023, 2024)) {
    one("employees_paid", payers[payers$variables$year == yr, ], "amount_paid",
        as.character(yr), interval, qrule)
  }
}

ref <- do.call(rbind, rows)
# svyby gives the same numbers as the subsets above
chk <- svyby(~api00, ~stype, dclus1, svyquantile, quantiles = 0.5, ci = TRUE,
             interval.type = "mean")
mine <- ref[ref$case == "apiclus1" & ref$variable == "api00" & ref$domain != "" &
              ref$q == 0.5 & ref$interval == "mean" & ref$qrule == "math", ]
stopifnot(isTRUE(all.equal(as.numeric(coef(chk)), mine$estimate)),
          isTRUE(all.equal(as.numeric(SE(chk)), mine$se)))
write.csv(ref, file.path(out_dir, "quantiles_reference.csv"), row.names = FALSE)
cat(nrow(ref), "rows\n")
