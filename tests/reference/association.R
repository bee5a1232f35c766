# Reference values for harvest.association (design.chisq, design.ttest), from R survey.
#
# Run from the repository root:   Rscript tests/reference/association.R
# (R >= 4 with survey 4.1; tested with survey 4.1.1; CompQuadForm not installed, so R's
# "lincom" falls back to the saddlepoint approximation with a warning: it is not stored.)
#
# Reads api_apistrat.csv and api_apiclus1.csv (written by survey_taylor.R) and
# association_employees.csv (the columns used of hv.datasets.load("employees"), which adds
# the derived indicators to data/employees.csv). The replicate designs are as.svrepdesign(type = "JK1") of apiclus1
# and (type = "JKn") of the employee design without fpc: harvest builds the same weights
# with SurveyDesign.replicate("jk1" / "jkn"). Writes, next to this script:
#   association_chisq.csv       svychisq: design, rows, cols, test, statistic, df_num,
#                               df_den, p_value  (df_num/df_den NA where R gives none)
#   association_ttest.csv       svyttest: design, variable, by, estimate, se, statistic,
#                               df, p_value, ci_low, ci_high
#
# Conventions: statistic is what R reports (F for "F", "Wald", "adjWald"; Pearson's
# X-squared for "Chisq" and "saddlepoint"); df_num, df_den are R's parameter (ndf, ddf;
# "Chisq": df); for "saddlepoint" df_num = (r-1)(c-1) and df_den = d0 * nu (Taylor) or
# NA (replicate), as harvest reports them. se of svyttest = statistic / estimate.

suppressMessages(library(survey))
options(digits = 17, survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))

strat <- read.csv(file.path(here, "api_apistrat.csv"))
clus1 <- read.csv(file.path(here, "api_apiclus1.csv"))
emp <- read.csv(file.path(here, "association_employees.csv"))

d_strat <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
d_clus1 <- svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)
d_emp <- svydesign(ids = ~district, strata = ~stratum, weights = ~weight,
                   fpc = ~n_districts, nest = TRUE, data = emp)
r_clus1 <- as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = clus1), type = "JK1")
r_emp <- as.svrepdesign(svydesign(ids = ~district, strata = ~stratum, weights = ~weight,
                                  nest = TRUE, data = emp), type = "JKn")

designs <- list(apistrat = d_strat, apiclus1 = d_clus1, employees = d_emp,
                rep_apiclus1 = r_clus1, rep_employees = r_emp)
tables <- list(apistrat = list(c("stype", "sch_wide"), c("stype", "awards")),
               apiclus1 = list(c("stype", "sch_wide"), c("stype", "awards")),
               employees = list(c("sector", "any_consequence"), c("region", "sector")),
               rep_apiclus1 = list(c("stype", "sch_wide"), c("stype", "awards")),
               rep_employees = list(c("sector", "any_consequence"), c("region", "sector")))

chisq_rows <- list()
for (name in names(tables)) {
  des <- designs[[name]]
  for (tab in tables[[name]]) {
    message(name, " ", paste(tab, collapse = " x "))
    f <- as.formula(paste("~", tab[1], "+", tab[2]))
    for (st in c("F", "Chisq", "Wald", "adjWald", "saddlepoint")) {
      res <- svychisq(f, des, statistic = st)
      par <- unname(res$parameter)
      nr <- length(unique(des$variables[[tab[1]]]))
      nc <- length(unique(des$variables[[tab[2]]]))
      if (st == "saddlepoint") {
        # harvest reports (r-1)(c-1) and the F denominator df it used (Taylor only)
        par <- c((nr - 1) * (nc - 1), NA)
        if (!inherits(des, "svyrep.design")) {
          mm <- model.matrix(~interaction(factor(des$variables[[tab[1]]]),
                                          factor(des$variables[[tab[2]]])) - 1)
          fres <- svychisq(f, des, statistic = "F")
          par[2] <- unname(fres$parameter[2])
        }
      }
      if (length(par) == 1) par <- c(par, NA)
      chisq_rows[[length(chisq_rows) + 1]] <- data.frame(
        design = name, rows = tab[1], cols = tab[2], test = st,
        statistic = unname(res$statistic), df_num = par[1], df_den = par[2],
        p_value = res$p.value)
    }
  }
}
write.csv(do.call(rbind, chisq_rows), file.path(here, "association_chisq.csv"),
          row.names = FALSE)

tests <- list(apistrat = list(c("api00", "awards"), c("api00", "sch_wide"), c("api00", "")),
              apiclus1 = list(c("api00", "awards"), c("enroll", "sch_wide"), c("api00", "")),
              employees = list(c("amount_paid", "picked"), c("n_consequences", "picked"),
                               c("n_consequences", "")),
              rep_apiclus1 = list(c("api00", "awards"), c("api00", "")),
              rep_employees = list(c("amount_paid", "picked"), c("n_consequences", "")))
t_rows <- list()
for (name in names(tests)) {
  des <- designs[[name]]
  for (tt in tests[[name]]) {
    rhs <- if (tt[2] == "") "0" else tt[2]
    res <- svyttest(as.formula(paste(tt[1], "~", rhs)), des)
    t_rows[[length(t_rows) + 1]] <- data.frame(
      design = name, variable = tt[1], by = tt[2], estimate = unname(res$estimate),
      se = unname(res$estimate / res$statistic), statistic = unname(res$statistic),
      df = unname(res$parameter), p_value = res$p.value,
      ci_low = res$conf.int[1], ci_high = res$conf.int[2])
  }
}
write.csv(do.call(rbind, t_rows), file.path(here, "association_ttest.csv"),
          row.names = FALSE)
