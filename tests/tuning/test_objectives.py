import numpy as np
import pytest

import tuning
from tuning.objectives import ObjectiveMetrics


@pytest.mark.parametrize(
    "spec, name, direction",
    [
        ("val_elbo", "val_elbo", "min"),
        ("active_units", "val_active_units", "max"),
        ("rate", "val_reconstruction_at_rate", "min"),
        ("val_kl_loss", "val_kl_loss", "min"),
        ("val_my_metric:max", "val_my_metric", "max"),
    ],
)
def test_objectives_have_directions(spec, name, direction):
    objective = tuning.make_objective(spec)
    assert (objective.name, objective.direction) == (name, direction)


def test_unknown_objective_lists_the_choices():
    with pytest.raises(ValueError, match=r"Unknown objective 'val_accuracy'.*val_elbo"):
        tuning.make_objective("val_accuracy")


class _FakeVAE:
    """Encoder means with chosen variances per latent dimension."""

    def encode(self, x, labels=None, raw=False):
        assert labels is None and raw  # the networks' space, as validation data
        rng = np.random.default_rng(0)
        scales = np.array([1.0, 0.5, 0.05, 0.0])  # variances 1, 0.25, 0.0025, 0
        return rng.normal(size=(len(x), 4)) * scales, None


def test_active_units_count_dimensions_with_varying_means():
    callback = ObjectiveMetrics(np.zeros((1000, 8)))
    callback.set_model(_FakeVAE())
    logs = {"val_kl_loss": 3.0, "val_reconstruction_loss": 50.0}
    callback.on_epoch_end(0, logs)
    assert logs["val_active_units"] == 2.0
    assert "val_reconstruction_at_rate" not in logs


def test_reconstruction_at_rate_penalizes_only_the_excess():
    callback = ObjectiveMetrics(None, rate_budget=5.0)
    within = {"val_kl_loss": 4.0, "val_reconstruction_loss": 50.0}
    over = {"val_kl_loss": 6.5, "val_reconstruction_loss": 40.0}
    callback.on_epoch_end(0, within)
    callback.on_epoch_end(0, over)
    assert within["val_reconstruction_at_rate"] == 50.0
    assert over["val_reconstruction_at_rate"] == pytest.approx(40.0 + 100 * 1.5)
