"""Planning the next mission: sample size, allocation across strata and power.

Formulas (Cochran 1977; Kish 1965; Fleiss et al. 2003) in :mod:`.size`,
:mod:`.allocation` and :mod:`.power`; :func:`simulate_clusters` answers the same questions by
simulating many cluster samples at once, to check the formulas when clusters are few.
Every function returns a tidy pandas DataFrame.

Examples
--------
>>> import harvest as hv
>>> int(hv.plan.sample_size(p=0.23, moe=0.05, deff=2.0)["n"].iloc[0])
545
"""

from harvest.plan.allocation import allocate
from harvest.plan.mission import simulate_mission
from harvest.plan.power import minimum_detectable_change, power_change, sample_size_change
from harvest.plan.sensitive import (
    sensitive_power,
    sensitive_sample_size,
    sensitive_variance,
)
from harvest.plan.simulation import simulate as simulate  # deprecated name
from harvest.plan.simulation import simulate_clusters
from harvest.plan.size import margin_of_error, sample_size

__all__ = ["allocate", "margin_of_error", "minimum_detectable_change", "power_change",
           "sample_size", "sample_size_change", "simulate_clusters", "simulate_mission",
           "sensitive_power", "sensitive_sample_size", "sensitive_variance"]
