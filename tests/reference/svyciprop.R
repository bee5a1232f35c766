# Reference values for harvest/intervals.py from R survey::svyciprop and confint.
#
# Run from the repository root:
#     Rscript tests/reference/svyciprop.R
# Writes (next to this script):
#   svyciprop_cases.csv  one row per design x indicator x domain x method x level:
#                        the inputs the Python side needs (estimate, se, df, n, dispersion,
#                        all computed here in R) and R's interval (ci_low, ci_high; NA when
#                        R returned NaN/NA or stopped, with the message in `error`).
#   svyciprop_t.csv      t intervals of means (confint(svymean(), df = degf())) by domain.
#   svyciprop_rows.csv   the rows behind every case (see below).
#   svyciprop_sim_data.csv  the generated cluster sample.
#
# Domains are analysed exactly as svyby() does: FUN(design[byfactor %in% level, ]) with
# svyciprop's default df = degf(<domain design>). For every (design, indicator, by, method,
# level) where svyby() itself runs, the script checks that svyby(..., svyciprop,
# vartype = "ci") gives the same numbers as the per-domain calls (stored: svyby_checked).
#
# Inputs per domain design d and indicator y:
#   estimate, se  coef() and SE() of svymean(~as.numeric(y), d)
#   df            degf(d)
#   n             nrow(d)
#   dispersion    summary(svyglm(y ~ 1, d, family = quasibinomial))$dispersion, the
#                 quasibinomial dispersion that confint.svyglm(method = "likelihood") uses
#                 (it is n / (n - 1) for a 0/1 variable).
#   irls_weight   1 / (n * naive.cov) of that svyglm: the mean IRLS working weight
#                 mu (1 - mu) of glm's last iteration, which sets R's Rao-Scott factor
#                 lambda = n * se^2 * irls_weight / (p (1 - p))^2.
# svyciprop_rows.csv holds the rows (spec, domain, y, weight) behind every case so that
# harvest.intervals.irls_weight can be checked against irls_weight without R.
suppressPackageStartupMessages(library(survey))
options(digits = 17)
data(api)

here <- "tests/reference"
methods <- c("logit", "likelihood", "asin", "beta", "mean", "xlogit")
levels <- c(0.9, 0.95, 0.99)

# --- designs ------------------------------------------------------------------------------
strat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
clus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
clus1_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)

# A small stratified cluster sample with unequal weights, generated here.
set.seed(20241124)
n_strata <- 3
psu_per_stratum <- c(4, 5, 6)
rows <- list()
for (h in seq_len(n_strata)) {
  for (j in seq_len(psu_per_stratum[h])) {
    m <- sample(6:25, 1)
    u <- rnorm(1, sd = 0.8)
    x <- rnorm(m)
    rows[[length(rows) + 1]] <- data.frame(
      stratum = h, psu = paste0(h, "-", j),
      w = round(runif(m, 5, 60), 2),
      grp = sample(c("A", "B", "C", "D"), m, replace = TRUE, prob = c(0.4, 0.3, 0.2, 0.1)),
      common = rbinom(m, 1, plogis(-0.8 + u + 0.5 * x)),
      rare = rbinom(m, 1, plogis(-3.5 + u)),
      amount = round(exp(3 + u + 0.4 * x), 1)
    )
  }
}
sim <- do.call(rbind, rows)
# Domain D never has the event, domain C always has it: p = 0 and p = 1 domains.
sim$edge <- ifelse(sim$grp == "D", 0L, ifelse(sim$grp == "C", 1L, sim$common))
# Domain "TRUE" lies in a single PSU: df = 0 there (R's intervals are NaN or stop).
sim$one_psu <- sim$psu == "2-3"
simdes <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = sim, nest = TRUE)
write.csv(sim, file.path(here, "svyciprop_sim_data.csv"), row.names = FALSE)
# Two PSUs of one stratum: a design with df = 1.
df1des <- svydesign(id = ~psu, weights = ~w, data = sim[sim$psu %in% c("2-1", "2-2"), ])

specs <- list(
  list(design = "apistrat", des = strat, ind = 'I(sch.wide == "Yes")', by = "stype"),
  list(design = "apistrat", des = strat, ind = 'I(awards == "Yes")', by = "stype"),
  list(design = "apistrat", des = strat, ind = 'I(comp.imp == "Yes")', by = NA),
  list(design = "apistrat", des = strat, ind = 'I(both == "Yes")', by = "stype"),
  list(design = "apistrat", des = strat, ind = 'I(stype == "H")', by = NA),
  list(design = "apiclus1", des = clus1, ind = 'I(sch.wide == "Yes")', by = "stype"),
  list(design = "apiclus1", des = clus1, ind = 'I(awards == "Yes")', by = NA),
  list(design = "apiclus1", des = clus1, ind = 'I(api00 > 800)', by = "stype"),
  list(design = "apiclus1_nofpc", des = clus1_nofpc, ind = 'I(both == "Yes")', by = "stype"),
  list(design = "sim", des = simdes, ind = "common", by = "grp"),
  list(design = "sim", des = simdes, ind = "common", by = NA),
  list(design = "sim", des = simdes, ind = "rare", by = NA),
  list(design = "sim", des = simdes, ind = "rare", by = "stratum"),
  list(design = "sim", des = simdes, ind = "edge", by = "grp"),
  list(design = "sim_df1", des = df1des, ind = "common", by = NA),
  list(design = "sim", des = simdes, ind = "common", by = "one_psu")
)

quiet <- function(expr) {
  # value, or NA with the error/warning text
  msg <- ""
  val <- withCallingHandlers(
    tryCatch(expr, error = function(e) {
      msg <<- paste0("error: ", conditionMessage(e))
      NULL
    }),
    warning = function(w) {
      msg <<- paste0(msg, if (nzchar(msg)) "; " else "", "warning: ", conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(value = val, msg = msg)
}

out <- list()
rowsout <- list()
case <- 0
for (s in specs) {
  des <- s$des
  f <- as.formula(paste0("~", s$ind))
  fnum <- as.formula(paste0("~as.numeric(", s$ind, ")"))
  fglm <- as.formula(paste0(s$ind, " ~ 1"))
  if (is.na(s$by)) {
    byfactor <- factor(rep("all", nrow(des)))
  } else {
    byfactor <- factor(model.frame(des)[[s$by]])
  }
  doms <- sort(unique(byfactor))
  rowsout[[length(rowsout) + 1]] <- data.frame(
    design = s$design, indicator = s$ind, by = ifelse(is.na(s$by), "", s$by),
    domain = as.character(byfactor),
    y = as.numeric(eval(parse(text = s$ind), model.frame(des))),
    weight = weights(des, "sampling")
  )
  # svyby's own answers, for the check
  byres <- list()
  if (!is.na(s$by)) {
    for (meth in methods) for (lev in levels) {
      r <- quiet(svyby(f, as.formula(paste0("~", s$by)), des, svyciprop, method = meth,
                       level = lev, vartype = "ci"))
      byres[[paste(meth, lev)]] <- r$value
    }
  }
  for (dom in doms) {
    d <- des[byfactor %in% dom, ]
    case <- case + 1
    m <- svymean(fnum, d)
    est <- unname(coef(m))
    se <- unname(SE(m))
    g <- quiet(svyglm(fglm, d, family = quasibinomial()))
    disp <- NA
    irls <- NA
    if (!is.null(g$value)) {
      disp <- as.numeric(summary(g$value)$dispersion)
      irls <- 1 / (nrow(d) * as.numeric(g$value$naive.cov))
    }
    for (meth in methods) for (lev in levels) {
      r <- quiet(svyciprop(f, d, method = meth, level = lev))
      ci <- if (is.null(r$value)) c(NA, NA) else as.numeric(attr(r$value, "ci"))
      checked <- NA
      b <- byres[[paste(meth, lev)]]
      if (!is.null(b)) {
        row <- which(as.character(b[[s$by]]) == as.character(dom))
        bci <- as.numeric(c(b[row, "ci_l"], b[row, "ci_u"]))
        same <- isTRUE(all.equal(bci, ci, tolerance = 1e-12)) ||
          (all(is.na(bci)) && all(is.na(ci)))
        if (!same) stop("svyby and the per-domain call disagree: ", s$design, s$ind, dom, meth)
        checked <- TRUE
      }
      out[[length(out) + 1]] <- data.frame(
        case = case, design = s$design, indicator = s$ind,
        by = ifelse(is.na(s$by), "", s$by), domain = as.character(dom),
        estimate = est, se = se, df = degf(d), n = nrow(d), dispersion = disp,
        irls_weight = irls,
        method = meth, level = lev, ci_low = ci[1], ci_high = ci[2],
        svyby_checked = checked, error = r$msg
      )
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "svyciprop_cases.csv"), row.names = FALSE)
write.csv(do.call(rbind, rowsout), file.path(here, "svyciprop_rows.csv"), row.names = FALSE)

# --- t intervals for means ------------------------------------------------------------------
tout <- list()
tspecs <- list(
  list(design = "apistrat", des = strat, var = "api00", by = "stype"),
  list(design = "apiclus1", des = clus1, var = "api00", by = "stype"),
  list(design = "sim", des = simdes, var = "amount", by = "grp")
)
for (s in tspecs) {
  byfactor <- factor(model.frame(s$des)[[s$by]])
  for (dom in sort(unique(byfactor))) {
    d <- s$des[byfactor %in% dom, ]
    m <- svymean(as.formula(paste0("~", s$var)), d)
    for (lev in levels) {
      ci <- as.numeric(confint(m, level = lev, df = degf(d)))
      tout[[length(tout) + 1]] <- data.frame(
        design = s$design, variable = s$var, by = s$by, domain = as.character(dom),
        estimate = unname(coef(m)), se = unname(SE(m)), df = degf(d), level = lev,
        ci_low = ci[1], ci_high = ci[2]
      )
    }
  }
}
write.csv(do.call(rbind, tout), file.path(here, "svyciprop_t.csv"), row.names = FALSE)
cat("wrote", nrow(res), "interval rows\n")
