# Reference values for harvest.compare: differences, ratios, odds ratios and linear
# trend contrasts between domains, from R survey's svyby(..., covmat=TRUE) + svycontrast.
#
# Run from the repository root:   Rscript tests/reference/survey_compare.R
# Writes (all CSV, in tests/reference/):
#   compare_data.csv         the generated stratified clustered data (3 years, shared PSUs
#                            in strata S1 and S2, year-specific PSUs in S3 and S4)
#   compare_repweights.csv   the JKn replicate weights R builds from that design (analysis
#                            weights, one column per replicate) ...
#   compare_rscales.csv      ... and their rscales (scale is 1 for JKn)
#   compare_api.csv          apistrat and apiclus1 columns used here (with 0/1 indicators)
#   compare_reference.csv    one row per contrast: the R results
#
# Conventions (the same as harvest.compare):
#   * the statistic compared is svymean (kind="proportion" or "mean" in harvest) unless
#     the call's name says total (svytotal) or per_x (svyratio with denominator x);
#   * difference = group - baseline; ratio = group / baseline;
#     odds_ratio = (g/(1-g)) / (b/(1-b)).
#   * se of a ratio or odds ratio: svycontrast of the quoted nonlinear contrast on the
#     natural scale (delta method); se_log: the same for the log of the contrast.
#   * interval and p-value with t on df = degf(design): for the difference
#     estimate +- qt * se; for ratio and odds ratio exp(log +- qt * se_log), p-value from
#     log / se_log. (R's confint(svycontrast(...)) uses df = Inf unless df= is given.)
#   * all pairs: every pair of levels i < j (sorted), group = level j, baseline = level i.
#   * p_holm, p_bonferroni, p_fdr_bh: p.adjust over all rows of one `call` (one harvest
#     call: every indicator, by-domain and pair of that call, for one measure).
#   * df_domain (Taylor designs): degf() of the design restricted to the rows of the
#     compared domains (group and baseline, in the by-domain; for a trend every year of
#     the by-domain): harvest's df="domain".
#   * trend: the linear contrast sum_t c_t p_t / sum_t c_t^2 with c_t = year_t - mean(year),
#     i.e. the least-squares slope through the yearly estimates (per year).
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")
out_dir <- "tests/reference"

# ---- 1. generated data -----------------------------------------------------------------
set.seed(20241124)
years <- c(2022, 2023, 2024)
strata <- data.frame(stratum = paste0("S", 1:4), region = c("North", "North", "South", "South"),
                     n_psu = c(6, 5, 4, 4), N = c(20, 15, 40, 30),
                     shared = c(TRUE, TRUE, FALSE, FALSE), stringsAsFactors = FALSE)
sectors <- c("education", "health", "utilities")
rows <- list()
for (h in seq_len(nrow(strata))) {
  s <- strata[h, ]
  if (s$shared) {
    psu_ids <- paste0(s$stratum, "-d", seq_len(s$n_psu))
    grid <- expand.grid(psu = psu_ids, year = years, stringsAsFactors = FALSE)
  } else {
    grid <- do.call(rbind, lapply(years, function(y)
      data.frame(psu = paste0(s$stratum, "-", y, "-d", seq_len(s$n_psu)), year = y,
                 stringsAsFactors = FALSE)))
  }
  u <- rnorm(length(unique(grid$psu)), 0, 0.8)
  names(u) <- unique(grid$psu)
  size <- runif(length(unique(grid$psu)), 10, 40)
  names(size) <- unique(grid$psu)
  for (i in seq_len(nrow(grid))) {
    m <- sample(3:7, 1)
    p <- grid$psu[i]
    yr <- grid$year[i]
    sector <- sample(sectors, m, replace = TRUE, prob = c(0.5, 0.3, 0.2))
    sec_eff <- c(education = 0, health = -0.4, utilities = 0.5)[sector]
    eta1 <- -1 + 0.35 * (yr - 2023) + u[p] + sec_eff
    eta2 <- 0.2 - 0.25 * (yr - 2023) + 0.5 * u[p] - 0.5 * sec_eff
    rows[[length(rows) + 1]] <- data.frame(
      year = yr, region = s$region, stratum = s$stratum, district = p, sector = sector,
      weight = round(s$N / s$n_psu * size[p] / m * runif(m, 0.8, 1.25), 4),
      n_districts = s$N,
      y1 = rbinom(m, 1, plogis(eta1)), y2 = rbinom(m, 1, plogis(eta2)),
      x = round(exp(3 + 0.4 * u[p] + 0.1 * (yr - 2023) + rnorm(m, 0, 0.5)), 3),
      stringsAsFactors = FALSE)
  }
}
gen <- do.call(rbind, rows)
rownames(gen) <- NULL
write.csv(gen, file.path(out_dir, "compare_data.csv"), row.names = FALSE)

des_gen <- svydesign(ids = ~district, strata = ~stratum, weights = ~weight, fpc = ~n_districts,
                     nest = TRUE, data = gen)
rep_gen <- as.svrepdesign(des_gen, type = "JKn")
repw <- weights(rep_gen, "analysis")
colnames(repw) <- paste0("repw_", seq_len(ncol(repw)))
write.csv(repw, file.path(out_dir, "compare_repweights.csv"), row.names = FALSE)
write.csv(data.frame(rscales = rep_gen$rscales, scale = rep_gen$scale),
          file.path(out_dir, "compare_rscales.csv"), row.names = FALSE)

# ---- 2. the api data -------------------------------------------------------------------
data(api)
prep <- function(d, name) {
  data.frame(data = name, cds = d$cds, stype = as.character(d$stype), dnum = d$dnum,
             pw = d$pw, fpc = d$fpc, sch_wide = as.numeric(d$sch.wide == "Yes"),
             awards = as.numeric(d$awards == "Yes"), api00 = d$api00,
             stringsAsFactors = FALSE)
}
api_all <- rbind(prep(apistrat, "apistrat"), prep(apiclus1, "apiclus1"))
write.csv(api_all, file.path(out_dir, "compare_api.csv"), row.names = FALSE)
des_strat <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc,
                       data = subset(api_all, data == "apistrat"))
des_clus1 <- svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc,
                       data = subset(api_all, data == "apiclus1"))

# ---- 3. contrasts ----------------------------------------------------------------------
bq <- function(x) paste0("`", x, "`")
nl <- function(stat, text) {
  r <- svycontrast(stat, parse(text = text)[[1]])
  c(est = unname(coef(r)), se = unname(sqrt(diag(as.matrix(attr(r, "var"))))))
}

# One harvest call: `vars` (each its own svyby), `between`, optional `by`, `baseline`
# (NULL = all pairs) and one `measure`.
contrast_call <- function(call, design, vars, between, by, baseline, measure,
                          level = 0.95, stat = "mean", denominator = NULL) {
  df <- degf(design)
  q <- qt(1 - (1 - level) / 2, df)
  out <- list()
  for (v in vars) {
    f_by <- if (is.null(by)) as.formula(paste0("~", between))
            else as.formula(paste0("~", by, "+", between))
    s <- switch(stat,
      mean = svyby(as.formula(paste0("~", v)), f_by, design, svymean, covmat = TRUE),
      total = svyby(as.formula(paste0("~", v)), f_by, design, svytotal, covmat = TRUE),
      ratio = svyby(as.formula(paste0("~", v)), f_by, design, svyratio, covmat = TRUE,
                    denominator = as.formula(paste0("~", denominator))))
    keys <- names(coef(s))
    label <- if (stat == "ratio") paste0(v, "/", denominator) else v
    tab <- data.frame(key = keys, between = as.character(s[[between]]),
                      by = if (is.null(by)) "" else as.character(s[[by]]),
                      est = unname(coef(s)), stringsAsFactors = FALSE)
    for (b in unique(tab$by)) {
      sub <- tab[tab$by == b, ]
      lev <- sort(unique(sub$between))
      if (is.null(baseline)) {
        pairs <- t(combn(seq_along(lev), 2))
        pairs <- data.frame(g = lev[pairs[, 2]], b = lev[pairs[, 1]], stringsAsFactors = FALSE)
      } else {
        pairs <- data.frame(g = setdiff(lev, as.character(baseline)),
                            b = as.character(baseline), stringsAsFactors = FALSE)
      }
      for (i in seq_len(nrow(pairs))) {
        kg <- sub$key[sub$between == pairs$g[i]]
        kb <- sub$key[sub$between == pairs$b[i]]
        eg <- sub$est[sub$between == pairs$g[i]]
        eb <- sub$est[sub$between == pairs$b[i]]
        if (measure == "difference") {
          r <- svycontrast(s, setNames(c(1, -1), c(kg, kb)))
          est <- unname(coef(r)); se <- unname(SE(r)); se_log <- NA
          lo <- est - q * se; hi <- est + q * se; tstat <- est / se
        } else {
          if (measure == "ratio") {
            expr <- sprintf("%s/%s", bq(kg), bq(kb))
          } else {
            expr <- sprintf("(%s/(1-%s))/(%s/(1-%s))", bq(kg), bq(kg), bq(kb), bq(kb))
          }
          nat <- nl(s, expr)
          lg <- nl(s, sprintf("log(%s)", expr))
          est <- nat[["est"]]; se <- nat[["se"]]; se_log <- lg[["se"]]
          lo <- exp(lg[["est"]] - q * se_log); hi <- exp(lg[["est"]] + q * se_log)
          tstat <- lg[["est"]] / se_log
        }
        vars <- design$variables
        sel <- as.character(vars[[between]]) %in% c(pairs$g[i], pairs$b[i])
        if (!is.null(by)) sel <- sel & as.character(vars[[by]]) == b
        df_dom <- if (inherits(design, "survey.design2")) degf(design[sel, ]) else NA
        out[[length(out) + 1]] <- data.frame(
          call = call, by_value = b, indicator = label, group = pairs$g[i],
          baseline = pairs$b[i], estimate_group = eg, estimate_baseline = eb,
          measure = measure, estimate = est, se = se, se_log = se_log, ci_low = lo,
          ci_high = hi, df = df, p_value = 2 * pt(-abs(tstat), df), df_domain = df_dom,
          stringsAsFactors = FALSE)
      }
    }
  }
  res <- do.call(rbind, out)
  res$p_holm <- p.adjust(res$p_value, "holm")
  res$p_bonferroni <- p.adjust(res$p_value, "bonferroni")
  res$p_fdr_bh <- p.adjust(res$p_value, "BH")
  res
}

# Linear trend over the years: slope = sum c_t p_t / sum c_t^2, c_t centred years present
# in the by-domain.
trend_call <- function(call, design, vars, time, by, level = 0.95) {
  df <- degf(design)
  q <- qt(1 - (1 - level) / 2, df)
  out <- list()
  for (v in vars) {
    f_by <- if (is.null(by)) as.formula(paste0("~", time))
            else as.formula(paste0("~", by, "+", time))
    s <- svyby(as.formula(paste0("~", v)), f_by, design, svymean, covmat = TRUE)
    keys <- names(coef(s))
    tv <- as.numeric(as.character(s[[time]]))
    bv <- if (is.null(by)) rep("", length(keys)) else as.character(s[[by]])
    for (b in unique(bv)) {
      sel <- bv == b
      cc <- tv[sel] - mean(tv[sel])
      w <- setNames(rep(0, length(keys)), keys)
      w[sel] <- cc / sum(cc^2)
      r <- svycontrast(s, w)
      est <- unname(coef(r)); se <- unname(SE(r))
      rows <- if (is.null(by)) rep(TRUE, nrow(design$variables))
              else as.character(design$variables[[by]]) == b
      df_dom <- if (inherits(design, "survey.design2")) degf(design[rows, ]) else NA
      out[[length(out) + 1]] <- data.frame(
        call = call, by_value = b, indicator = v, group = as.character(max(tv[sel])),
        baseline = as.character(min(tv[sel])), estimate_group = NA, estimate_baseline = NA,
        measure = "slope", estimate = est, se = se, se_log = NA,
        ci_low = est - q * se, ci_high = est + q * se, df = df,
        p_value = 2 * pt(-abs(est / se), df), df_domain = df_dom, stringsAsFactors = FALSE)
    }
  }
  res <- do.call(rbind, out)
  res$p_holm <- p.adjust(res$p_value, "holm")
  res$p_bonferroni <- p.adjust(res$p_value, "bonferroni")
  res$p_fdr_bh <- p.adjust(res$p_value, "BH")
  res
}

calls <- list()
add <- function(x) calls[[length(calls) + 1]] <<- x
for (m in c("difference", "ratio", "odds_ratio")) {
  add(contrast_call(paste0("gen_year_", m), des_gen, c("y1", "y2"), "year", NULL, 2022, m))
  add(contrast_call(paste0("gen_year_region_", m), des_gen, c("y1", "y2"), "year", "region",
                    2022, m))
  add(contrast_call(paste0("gen_sector_pairs_year_", m), des_gen, c("y1", "y2"), "sector",
                    "year", NULL, m))
  add(contrast_call(paste0("rep_year_", m), rep_gen, c("y1", "y2"), "year", NULL, 2022, m))
  add(contrast_call(paste0("rep_year_region_", m), rep_gen, c("y1", "y2"), "year", "region",
                    2022, m))
  add(contrast_call(paste0("apistrat_stype_", m), des_strat, c("sch_wide", "awards"), "stype",
                    NULL, "E", m))
  add(contrast_call(paste0("apiclus1_stype_pairs_", m), des_clus1, c("sch_wide", "awards"),
                    "stype", NULL, NULL, m))
}
for (m in c("difference", "ratio")) {
  add(contrast_call(paste0("gen_x_year_region_", m), des_gen, "x", "year", "region", 2022, m))
  add(contrast_call(paste0("apiclus1_api00_stype_", m), des_clus1, "api00", "stype", NULL,
                    "E", m))
}
for (m in c("difference", "ratio")) {
  add(contrast_call(paste0("gen_x_total_year_region_", m), des_gen, "x", "year", "region",
                    2022, m, stat = "total"))
  add(contrast_call(paste0("gen_y1_per_x_year_", m), des_gen, c("y1", "y2"), "year", NULL,
                    2022, m, stat = "ratio", denominator = "x"))
  add(contrast_call(paste0("rep_x_total_year_region_", m), rep_gen, "x", "year", "region",
                    2022, m, stat = "total"))
}
add(contrast_call("gen_year_region_level90_difference", des_gen, c("y1", "y2"), "year",
                  "region", 2022, "difference", level = 0.90))
add(trend_call("gen_trend", des_gen, c("y1", "y2"), "year", NULL))
add(trend_call("gen_trend_region", des_gen, c("y1", "y2"), "year", "region"))
add(trend_call("rep_trend_region", rep_gen, c("y1", "y2"), "year", "region"))

ref <- do.call(rbind, calls)
write.csv(ref, file.path(out_dir, "compare_reference.csv"), row.names = FALSE)
cat("degf(des_gen) =", degf(des_gen), " degf(rep_gen) =", degf(rep_gen),
    " degf(des_strat) =", degf(des_strat), " degf(des_clus1) =", degf(des_clus1), "\n")
cat("wrote", nrow(ref), "reference rows\n")
