"""Sample size and power for indirect questions: list experiments and randomized response.

An indirect question protects the respondent at a price in precision. Per respondent,
the variance of the estimated prevalence :math:`\\pi` is (simple random sampling;
multiply by the design effect for a cluster sample):

* direct question: :math:`\\pi(1-\\pi)`;
* list experiment, a share :math:`s` of respondents on the long list and control items
  whose count has variance :math:`\\sigma_0^2` (:math:`\\sum_j q_j(1-q_j)` for
  independent items with chances :math:`q_j`):
  :math:`(\\sigma_0^2 + \\pi(1-\\pi))/s + \\sigma_0^2/(1-s)`;
* randomized response with :math:`\\lambda = \\alpha + \\beta\\pi` the share of yes
  (``harvest.sensitive.rr_coefficients``): :math:`\\lambda(1-\\lambda)/\\beta^2`.

``variance_ratio`` is the second or third over the first: how many times more
respondents the indirect question needs for the same margin of error.

Examples
--------
>>> import harvest as hv
>>> t = hv.plan.sensitive_sample_size(p=0.31, moe=0.05, method="list_experiment")
>>> round(float(t["variance_ratio"].iloc[0]), 2), int(t["n"].iloc[0])
(18.04, 5928)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from harvest._options import check_level, check_option

__all__ = ["SENSITIVE_METHODS", "sensitive_variance", "sensitive_sample_size",
           "sensitive_power"]

SENSITIVE_METHODS = ("direct", "list_experiment", "randomized_response")

#: Default control items: the chances of the four items of the simulated list.
DEFAULT_CONTROL = (0.2, 0.45, 0.6, 0.3)


def _control_variance(control, control_variance):
    if control_variance is not None:
        v = float(control_variance)
        if not v >= 0:
            raise ValueError(f"`control_variance` must be >= 0; got {control_variance!r}.")
        return v
    q = np.asarray(control, dtype=float)
    if q.ndim != 1 or q.size == 0 or ((q < 0) | (q > 1)).any():
        raise ValueError(f"`control` must be chances in [0, 1], one per control item; "
                         f"got {control!r}.")
    return float((q * (1 - q)).sum())


def sensitive_variance(p, method="list_experiment", *, control=DEFAULT_CONTROL,
                       control_variance=None, treatment_share=0.5, model="forced",
                       p_yes=1 / 6, p_no=1 / 6, device_p=None, unrelated_prevalence=None):
    """Per-respondent variance of the prevalence estimate and its ratio to a direct
    question's (see the module docstring for the formulas).

    Parameters
    ----------
    p : float or array
        Expected prevalence, strictly between 0 and 1.
    method : {"direct", "list_experiment", "randomized_response"}
    control, control_variance, treatment_share
        List experiment: chances of the control items (independent), or the variance of
        the control count directly; the share of respondents on the long list.
    model, p_yes, p_no, device_p, unrelated_prevalence
        Randomized response: the model and its device (``device_p`` is the estimator's
        ``p=``).

    Returns
    -------
    pandas.DataFrame
        ``p, method, unit_variance, variance_ratio``.

    Examples
    --------
    >>> t = sensitive_variance(0.31, "randomized_response", p_yes=1/6, p_no=1/6)
    >>> round(float(t["variance_ratio"].iloc[0]), 3)
    2.461
    """
    check_option("method", method, SENSITIVE_METHODS)
    p = np.atleast_1d(np.asarray(p, dtype=float))
    if ((p <= 0) | (p >= 1) | ~np.isfinite(p)).any():
        raise ValueError(f"`p` must be strictly between 0 and 1; got {p.tolist()!r}.")
    direct = p * (1 - p)
    if method == "direct":
        unit = direct
    elif method == "list_experiment":
        s = float(treatment_share)
        if not 0 < s < 1:
            raise ValueError(f"`treatment_share` must be in (0, 1); got {treatment_share!r}.")
        v0 = _control_variance(control, control_variance)
        unit = (v0 + direct) / s + v0 / (1 - s)
    else:
        from harvest.sensitive import rr_coefficients

        a, b = rr_coefficients(model, p=device_p, p_yes=p_yes, p_no=p_no,
                               unrelated_prevalence=unrelated_prevalence)
        lam = (p - a) / b
        unit = lam * (1 - lam) * b * b
    return pd.DataFrame({"p": p, "method": method, "unit_variance": unit,
                         "variance_ratio": unit / direct})


def sensitive_sample_size(p, moe, method="list_experiment", deff=1.0, level=0.95,
                          **options):
    """Respondents needed to estimate a prevalence within ``moe`` with an indirect
    question, beside the number a direct question would need.

    Parameters
    ----------
    p : float or array
        Expected prevalence.
    moe : float
        Margin of error (half-width of the interval, absolute).
    method : {"direct", "list_experiment", "randomized_response"}
    deff : float
        Design effect of the cluster sample (>= 0).
    level : float
        Confidence level.
    **options
        As :func:`sensitive_variance`.

    Returns
    -------
    pandas.DataFrame
        ``p, method, moe, level, deff, unit_variance, variance_ratio, n_direct, n``
        (``n = ceil(z^2 deff V / moe^2)``; ``n_direct`` the same with
        :math:`\\pi(1-\\pi)`).

    Examples
    --------
    >>> t = sensitive_sample_size(0.31, 0.05, "randomized_response", deff=2.0)
    >>> int(t["n_direct"].iloc[0]), int(t["n"].iloc[0])
    (658, 1618)
    """
    from harvest.plan.size import ceil_int, z_value

    level = check_level(level)
    moe = float(moe)
    if not moe > 0:
        raise ValueError(f"`moe` must be > 0; got {moe!r}.")
    if not float(deff) > 0:
        raise ValueError(f"`deff` must be > 0; got {deff!r}.")
    out = sensitive_variance(p, method, **options)
    z = z_value(level)
    scale = z * z * float(deff) / (moe * moe)
    out.insert(2, "moe", moe)
    out.insert(3, "level", level)
    out.insert(4, "deff", float(deff))
    out["n_direct"] = ceil_int(scale * out["p"] * (1 - out["p"])).astype(np.int64)
    out["n"] = ceil_int(scale * out["unit_variance"]).astype(np.int64)
    return out


def sensitive_power(p1, p2, n1, n2=None, method="list_experiment", deff=1.0, level=0.95,
                    **options):
    """Power of a two-sided test of a change in prevalence between two independent
    samples (years) of ``n1`` and ``n2`` respondents asked the indirect question.

    Returns
    -------
    pandas.DataFrame
        ``p1, p2, n1, n2, method, deff, se, power, power_direct``.

    Notes
    -----
    :math:`\\mathrm{se} = \\sqrt{\\mathrm{deff}(V_1/n_1 + V_2/n_2)}` and power
    :math:`\\Phi(|\\Delta|/\\mathrm{se} - z) + \\Phi(-|\\Delta|/\\mathrm{se} - z)`.

    Examples
    --------
    >>> t = sensitive_power(0.31, 0.21, 2047, method="list_experiment", deff=2.0)
    >>> round(float(t["power"].iloc[0]), 3), round(float(t["power_direct"].iloc[0]), 3)
    (0.212, 0.999)
    """
    level = check_level(level)
    n2 = n1 if n2 is None else n2
    v1 = sensitive_variance(p1, method, **options)["unit_variance"].to_numpy()
    v2 = sensitive_variance(p2, method, **options)["unit_variance"].to_numpy()
    n1a, n2a = np.asarray(n1, dtype=float), np.asarray(n2, dtype=float)
    if (n1a <= 0).any() or (n2a <= 0).any():
        raise ValueError("`n1` and `n2` must be positive.")
    z = stats.norm.isf((1 - level) / 2)
    diff = np.abs(np.asarray(p2, dtype=float) - np.asarray(p1, dtype=float))

    def power(var1, var2):
        se = np.sqrt(float(deff) * (var1 / n1a + var2 / n2a))
        return se, stats.norm.cdf(diff / se - z) + stats.norm.cdf(-diff / se - z)

    se, pw = power(v1, v2)
    p1a, p2a = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    _, pd_ = power(p1a * (1 - p1a), p2a * (1 - p2a))
    return pd.DataFrame({"p1": np.atleast_1d(p1a), "p2": np.atleast_1d(p2a),
                         "n1": np.atleast_1d(n1a), "n2": np.atleast_1d(n2a),
                         "method": method, "deff": float(deff), "se": np.atleast_1d(se),
                         "power": np.atleast_1d(pw), "power_direct": np.atleast_1d(pd_)})
