"""harvest._dist (scipy.special, fast to import) against scipy.stats."""

import numpy as np
import pytest
from scipy import stats

from harvest import _dist

rng = np.random.default_rng(11)
Q = np.concatenate([[0.0, 1.0, 1e-12, 0.5, 1 - 1e-12, 0.025, 0.975], rng.random(200)])
DF = np.concatenate([[0.5, 1, 2, 3.5, 30, 1e6, np.inf], rng.uniform(0.3, 200, 200)])


def test_normal():
    np.testing.assert_array_equal(_dist.norm_ppf(Q), stats.norm.ppf(Q))
    x = rng.normal(0, 3, 300)
    np.testing.assert_allclose(_dist.norm_cdf(x), stats.norm.cdf(x), rtol=1e-14, atol=0)


@pytest.mark.parametrize("df", DF[:7])
def test_t_quantiles_and_tails(df):
    np.testing.assert_allclose(_dist.t_ppf(Q, df), stats.t.ppf(Q, df), rtol=1e-12, atol=0)
    np.testing.assert_allclose(_dist.t_isf(Q, df), stats.t.isf(Q, df), rtol=1e-12, atol=0)
    x = rng.normal(0, 4, 50)
    np.testing.assert_allclose(_dist.t_sf(x, df), stats.t.sf(x, df), rtol=1e-12, atol=1e-300)


def test_t_random_df_and_beta():
    q, df = Q[7:], DF[7:]
    np.testing.assert_allclose(_dist.t_ppf(q, df), stats.t.ppf(q, df), rtol=1e-12)
    a, b = rng.uniform(0.2, 50, (2, q.size))
    np.testing.assert_allclose(_dist.beta_ppf(q, a, b), stats.beta.ppf(q, a, b), rtol=1e-12)


def test_estimation_does_not_import_scipy_stats():
    import subprocess
    import sys

    code = ("import sys, pandas as pd, harvest as hv\n"
            "df = pd.DataFrame({'p': [1, 2, 3, 4], 'g': [0, 0, 1, 1], 'y': [0, 1, 1, 0]})\n"
            "d = hv.SurveyDesign(df, psu='p')\n"
            "d.proportion('y', by='g'); d.mean('y'); d.compare('y', 'g', 0)\n"
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
