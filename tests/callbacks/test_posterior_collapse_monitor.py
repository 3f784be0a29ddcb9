import warnings

import keras
import pytest

import keras_vae
from keras_vae.callbacks import PosteriorCollapseMonitor


def _digits():
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype("float32")
    return (x - x.mean()) / x.std()


def _fit(beta, monitor, x, epochs=6):
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8), latent_dim=4, hidden_units=(64,)),
        beta=beta,
    )
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    return vae.fit(
        x[:1200], epochs=epochs, batch_size=64, verbose=0, callbacks=[monitor]
    )


def test_logs_active_units_and_kl_per_dimension_of_a_working_model():
    x = _digits()
    monitor = PosteriorCollapseMonitor(x[1200:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = _fit(1.0, monitor, x)
    assert history.history["active_units"][-1] >= 2
    assert len(monitor.kl_per_dimension) == 6
    assert monitor.kl_per_dimension[-1].shape == (4,)
    assert history.history["kl_per_dimension_max"][-1] == pytest.approx(
        float(monitor.kl_per_dimension[-1].max())
    )


def test_warns_once_on_collapse():
    # beta = 200: the original study's collapsed model.
    x = _digits()
    monitor = PosteriorCollapseMonitor(x[1200:])
    with pytest.warns(UserWarning, match="Posterior collapse at epoch") as record:
        history = _fit(200.0, monitor, x, epochs=15)
    assert history.history["active_units"][-1] == 0
    assert len([w for w in record if "Posterior collapse" in str(w.message)]) == 1
