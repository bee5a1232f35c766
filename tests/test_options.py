"""The one source of each rule in harvest._options: rng, probabilities, estimator kinds."""

import numpy as np
import pytest

from harvest._errors import RngError
from harvest._options import KINDS, as_generator, check_probability


def test_as_generator_is_default_rng_with_a_clear_error():
    g = np.random.default_rng(3)
    assert as_generator(g) is g
    assert as_generator(3).integers(1000) == np.random.default_rng(3).integers(1000)
    assert isinstance(as_generator(None), np.random.Generator)
    for bad in ("seed", 1.5, object()):
        with pytest.raises(RngError, match="`rng` must be a seed"):
            as_generator(bad)
    assert issubclass(RngError, TypeError) and issubclass(RngError, ValueError)


def test_check_probability_scalar_and_array():
    assert check_probability("power", 0.8) == 0.8
    for bad in (0.0, 1.0, float("nan"), "x", [0.5]):
        with pytest.raises(ValueError, match="`power` must be"):
            check_probability("power", bad)
    np.testing.assert_array_equal(check_probability("p", [0.2, 0.4], array=True), [0.2, 0.4])
    with pytest.raises(ValueError, match=r"`p` must be a share; got 1\.2 at position 1"):
        check_probability("p", [0.2, 1.2], array=True, rule="a share")


def test_one_list_of_estimator_kinds():
    import harvest._domains
    import harvest.compare
    import harvest.replicate_design

    assert KINDS == ("proportion", "mean", "total", "ratio")
    assert harvest._domains.KINDS is KINDS
    assert not hasattr(harvest.compare, "_KINDS")
    assert not hasattr(harvest.replicate_design, "_KINDS")
