# Reference values for harvest.sensitive (list experiments, randomized response) from
# R survey: svyby(..., covmat=TRUE) + svycontrast, and svyglm's treatment coefficient.
#
# Run from the repository root:   Rscript tests/reference/sensitive.R
# Writes (in tests/reference/):
#   sensitive_data.csv        generated stratified clustered data, 2 years, 2 regions,
#                             a single list (long_list 0/1, item_count, 3 control items),
#                             a double list (list_a, list_b, sens_in_a 0/1) and a forced-
#                             response answer (rr_answer)
#   sensitive_repweights.csv  the JKn replicate weights R builds from that design ...
#   sensitive_rscales.csv     ... and their rscales and scale
#   sensitive_reference.csv   one row per (design, call, region, year): estimate, se
#
# Conventions (the same as harvest.sensitive):
#   * list: mean count of the treatment list minus that of the control list, within the
#     domain; se from svycontrast on svyby(~item_count, ~long_list+region, svymean,
#     covmat=TRUE). svyglm_coef/svyglm_se: the coefficient of long_list in
#     svyglm(item_count ~ long_list, design = subset(design, region == r)).
#   * double: 1/2 (A|T - A|C) + 1/2 (B|C - B|T), T: sensitive item in list A.
#   * change: (T24 - C24) - (T23 - C23) by region, from one svyby over
#     long_list+year+region with covmat=TRUE.
#   * rr_forced: (svymean(rr_answer) - p_yes) / (1 - p_yes - p_no), p_yes = p_no = 1/6;
#     rr_warner: (svymean - (1 - p)) / (2p - 1) with p = 0.8; rr_change: 2024 - 2023.
#   * combined (Aronow, Coppock, Crawford and Green 2015), whole sample:
#     P(D=1) + P(D=0) * (mean(Y | T=1, D=0) - mean(Y | T=0, D=0)), a nonlinear
#     svycontrast of svyby(~one+d+y0+n0, ~long_list, svytotal, covmat=TRUE) with
#     d = direct, y0 = item_count * (1 - direct), n0 = 1 - direct.
#   * list_minus_direct: the list estimate minus the direct share, the same way.
#   * ols_diff / ols_se (unweighted, no design): lm(item_count ~ long_list) coefficient and
#     its classical se, what list::ictreg(method = "lm") returns (package `list` is not
#     installed here).
suppressPackageStartupMessages(library(survey))
out_dir <- "tests/reference"
set.seed(20241117)
H <- 4; per <- 6
strata <- rep(paste0("S", 1:H), each = per)
district <- paste0(strata, "_", rep(1:per, H))
rows <- do.call(rbind, lapply(seq_along(district), function(i) {
  m <- sample(14:22, 1)
  data.frame(stratum = strata[i], district = district[i], n_districts = 12,
             region = ifelse(strata[i] %in% c("S1", "S2"), "Ahal", "Lebap"),
             year = sample(c(2023, 2024), m, replace = TRUE),
             u = rnorm(1, 0, 0.6))
}))
n <- nrow(rows)
rows$weight <- round(runif(n, 5, 40), 2)
truth <- plogis(-1 + rows$u + 0.4 * (rows$year == 2024))
z <- rbinom(n, 1, truth)
rows$long_list <- rbinom(n, 1, 0.5)
rows$item_count <- rbinom(n, 3, plogis(0.2 * rows$u)) + rows$long_list * z
rows$sens_in_a <- rbinom(n, 1, 0.5)
rows$list_a <- rbinom(n, 3, 0.4) + rows$sens_in_a * z
rows$list_b <- rbinom(n, 4, 0.5) + (1 - rows$sens_in_a) * z
forced <- runif(n)
rows$rr_answer <- ifelse(forced < 1/6, 1, ifelse(forced < 2/6, 0, z))
rows$direct <- z * rbinom(n, 1, 0.5)   # one-sided lying: half the holders deny
rows$u <- NULL
write.csv(rows, file.path(out_dir, "sensitive_data.csv"), row.names = FALSE)

des <- svydesign(ids = ~district, strata = ~stratum, weights = ~weight,
                 fpc = ~n_districts, data = rows, nest = TRUE)
rep <- as.svrepdesign(des, type = "JKn")
repw <- weights(rep, "analysis")
colnames(repw) <- paste0("repw_", seq_len(ncol(repw)))
write.csv(repw, file.path(out_dir, "sensitive_repweights.csv"), row.names = FALSE)
write.csv(data.frame(rscales = rep$rscales, scale = rep$scale),
          file.path(out_dir, "sensitive_rscales.csv"), row.names = FALSE)

res <- list()
add <- function(design, call, region, year, est, se, extra = list()) {
  res[[length(res) + 1]] <<- data.frame(design = design, call = call, region = region,
    year = year, estimate = as.numeric(est), se = as.numeric(se),
    svyglm_coef = if (is.null(extra$coef)) NA else as.numeric(extra$coef),
    svyglm_se = if (is.null(extra$se)) NA else as.numeric(extra$se), row.names = NULL)
}
regions <- c("Ahal", "Lebap")
for (dname in c("taylor", "jkn")) {
  d <- if (dname == "taylor") des else rep
  # single list by region
  b <- svyby(~item_count, ~long_list + region, d, svymean, covmat = TRUE)
  nm <- rownames(coef(b))
  for (r in regions) {
    w <- setNames(rep(0, length(nm)), nm)
    w[paste0("1.", r)] <- 1; w[paste0("0.", r)] <- -1
    sc <- svycontrast(b, w)
    g <- svyglm(item_count ~ long_list, design = subset(d, region == r))
    add(dname, "list", r, NA, coef(sc), SE(sc),
        list(coef = coef(g)[["long_list"]], se = SE(g)[["long_list"]]))
  }
  # single list, whole sample
  b0 <- svyby(~item_count, ~long_list, d, svymean, covmat = TRUE)
  sc <- svycontrast(b0, c(-1, 1))
  g <- svyglm(item_count ~ long_list, design = d)
  add(dname, "list_all", NA, NA, coef(sc), SE(sc),
      list(coef = coef(g)[["long_list"]], se = SE(g)[["long_list"]]))
  # double list by region
  bd <- svyby(~list_a + list_b, ~sens_in_a + region, d, svymean, covmat = TRUE)
  cn <- names(coef(bd))
  for (r in regions) {
    w <- setNames(rep(0, length(cn)), cn)
    w[paste0("1.", r, ":list_a")] <- 0.5; w[paste0("0.", r, ":list_a")] <- -0.5
    w[paste0("0.", r, ":list_b")] <- 0.5; w[paste0("1.", r, ":list_b")] <- -0.5
    sc <- svycontrast(bd, w)
    add(dname, "double", r, NA, coef(sc), SE(sc))
  }
  # year-over-year change of the list estimate by region
  by3 <- svyby(~item_count, ~long_list + year + region, d, svymean, covmat = TRUE)
  nm <- rownames(coef(by3))
  for (r in regions) {
    w <- setNames(rep(0, length(nm)), nm)
    w[paste0("1.2024.", r)] <- 1; w[paste0("0.2024.", r)] <- -1
    w[paste0("1.2023.", r)] <- -1; w[paste0("0.2023.", r)] <- 1
    sc <- svycontrast(by3, w)
    add(dname, "list_change", r, 2024, coef(sc), SE(sc))
  }
  # randomized response: forced by region, warner overall, change by region
  br <- svyby(~rr_answer, ~region, d, svymean, covmat = TRUE)
  for (r in regions) {
    sc <- svycontrast(br, list(rr = setNames(as.numeric(regions == r), regions)))
    lam <- coef(sc); se <- SE(sc)
    add(dname, "rr_forced", r, NA, (lam - 1/6) / (1 - 2/6), se / (1 - 2/6))
  }
  m <- svymean(~rr_answer, d)
  add(dname, "rr_warner", NA, NA, (coef(m) - 0.2) / 0.6, SE(m) / 0.6)
  by2 <- svyby(~rr_answer, ~year + region, d, svymean, covmat = TRUE)
  nm <- rownames(coef(by2))
  for (r in regions) {
    w <- setNames(rep(0, length(nm)), nm)
    w[paste0("2024.", r)] <- 1 / (1 - 2/6); w[paste0("2023.", r)] <- -1 / (1 - 2/6)
    sc <- svycontrast(by2, w)
    add(dname, "rr_change", r, 2024, coef(sc), SE(sc))
  }
  # combined direct + list estimator
  dd <- update(d, one = 1, d = direct, y0 = item_count * (1 - direct), n0 = 1 - direct)
  bt <- svyby(~one + d + y0 + n0, ~long_list, dd, svytotal, covmat = TRUE)
  cm <- coef(bt)
  names(cm) <- gsub(":", "_", paste0("x", names(cm)))
  vc <- vcov(bt)
  dimnames(vc) <- list(names(cm), names(cm))
  stat <- structure(cm, var = vc, class = "svystat")
  ex <- quote((x0_d + x1_d) / (x0_one + x1_one) + (x0_n0 + x1_n0) / (x0_one + x1_one) *
              (x1_y0 / x1_n0 - x0_y0 / x0_n0))
  sc <- svycontrast(stat, ex)
  add(dname, "combined", NA, NA, coef(sc), SE(sc))
  # list estimate minus the direct share (direct_vs_list), nonlinear svycontrast
  dd2 <- update(d, one = 1, d = direct, yy = item_count)
  b2 <- svyby(~one + d + yy, ~long_list, dd2, svytotal, covmat = TRUE)
  c2 <- coef(b2)
  names(c2) <- gsub(":", "_", paste0("x", names(c2)))
  v2 <- vcov(b2)
  dimnames(v2) <- list(names(c2), names(c2))
  s2 <- svycontrast(structure(c2, var = v2, class = "svystat"),
                    quote((x1_yy / x1_one - x0_yy / x0_one) -
                          (x0_d + x1_d) / (x0_one + x1_one)))
  add(dname, "list_minus_direct", NA, NA, coef(s2), SE(s2))
}
# unweighted OLS difference in means (what list::ictreg(method = "lm") computes)
fit <- lm(item_count ~ long_list, data = rows)
add("unweighted", "ols", NA, NA, coef(fit)[["long_list"]],
    summary(fit)$coefficients["long_list", "Std. Error"])
out <- do.call(rbind, res)
rownames(out) <- NULL
write.csv(out, file.path(out_dir, "sensitive_reference.csv"), row.names = FALSE)
