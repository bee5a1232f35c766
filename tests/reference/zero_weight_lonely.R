# Reference for tests/test_zero_weight_lonely.py (R survey 4.1.1):
#  1. a domain whose sampling weights are all 0 (g == "c") under svyby, Taylor and
#     replicate (JKn) designs: R leaves it out of the table (svyby.default drops rows with
#     weights(design, "sampling") == 0 before it lists the levels);
#  2. lonely PSUs under survey.lonely.psu = "remove", "certainty", "adjust", "average":
#     svyby means by domain, including a domain that lies only in the lonely stratum
#     (its se is NaN under "average": no stratum left to average over).
# Run: Rscript tests/reference/zero_weight_lonely.R  (writes zero_weight_lonely.csv here)
suppressMessages(library(survey))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(13)
n <- 48
d <- data.frame(st = rep(1:3, each = 16), psu = rep(1:12, each = 4),
                g = rep(c("a", "b", "c", "d"), 12), y = rbinom(n, 1, 0.4),
                x = round(rnorm(n, 5), 3), z = round(runif(n) + 1, 3))
d$w <- round(runif(n, 1, 3), 3)
d$w[d$g == "c"] <- 0
write.csv(d, file.path(here, "zero_weight_data.csv"), row.names = FALSE)
out <- list()
add <- function(case, tab, stat, est, se) {
  out[[length(out) + 1]] <<- data.frame(case = case, statistic = stat, g = tab$g,
                                         estimate = as.numeric(est), se = as.numeric(se))
}
des <- svydesign(ids = ~psu, strata = ~st, weights = ~w, data = d, nest = TRUE)
rep <- as.svrepdesign(des, type = "JKn")
for (kind in c("taylor", "jkn")) {
  ds <- if (kind == "taylor") des else rep
  m <- svyby(~y, ~g, ds, svymean); add(kind, m, "mean_y", m$y, SE(m))
  m <- svyby(~x, ~g, ds, svytotal); add(kind, m, "total_x", m$x, SE(m))
  m <- svyby(~x, ~g, ds, svyratio, denominator = ~z)
  add(kind, m, "ratio_x_z", m[["x/z"]], m[["se.x/z"]])
}
# lonely PSUs: stratum 4 has one PSU; domain "e" lies only in it
l <- rbind(d[d$g != "c", c("st", "psu", "g", "y", "w")],
           data.frame(st = 4, psu = 13, g = "e", y = c(1, 0, 1), w = c(2, 2, 3)))
for (opt in c("remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(ids = ~psu, strata = ~st, weights = ~w, data = l, nest = TRUE)
  m <- svyby(~y, ~g, dl, svymean); add(paste0("lonely_", opt), m, "mean_y", m$y, SE(m))
  m <- svymean(~y, dl)
  out[[length(out) + 1]] <- data.frame(case = paste0("lonely_", opt), statistic = "mean_y",
                                       g = "(all)", estimate = as.numeric(coef(m)),
                                       se = as.numeric(SE(m)))
}
write.csv(do.call(rbind, out), file.path(here, "zero_weight_lonely.csv"), row.names = FALSE)
