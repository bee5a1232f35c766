# Reference values for harvest.plan (tests/test_plan.py), from base R's power.prop.test.
# power.prop.test is the classical pooled normal test of two proportions (Fleiss et al. 2003);
# strict = TRUE counts both tails, as harvest.plan.power_change(method = "fleiss") does.
# Run from the repository root:  Rscript tests/reference/plan_power.R
grid <- expand.grid(p1 = c(0.23, 0.5, 0.1), p2 = c(0.15, 0.3, 0.05),
                    n = c(50, 236, 472, 1000), sig.level = c(0.05, 0.10))
grid <- grid[grid$p1 != grid$p2, ]
grid$power_two_sided <- mapply(function(p1, p2, n, a)
  power.prop.test(n = n, p1 = p1, p2 = p2, sig.level = a, strict = TRUE)$power,
  grid$p1, grid$p2, grid$n, grid$sig.level)
grid$power_one_sided <- mapply(function(p1, p2, n, a)
  power.prop.test(n = n, p1 = p1, p2 = p2, sig.level = a, alternative = "one.sided")$power,
  grid$p1, grid$p2, grid$n, grid$sig.level)
# sample size per group for 80% and 90% power (two-sided, strict = FALSE: the usual formula)
grid$n_power80 <- mapply(function(p1, p2, a)
  power.prop.test(p1 = p1, p2 = p2, sig.level = a, power = 0.8)$n,
  grid$p1, grid$p2, grid$sig.level)
write.csv(grid, "tests/reference/plan_power.csv", row.names = FALSE)
cat(R.version.string, "\n")
