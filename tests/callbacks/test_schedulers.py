import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.callbacks import BetaScheduler, CapacityScheduler
from keras_vae.schedules import LinearWarmup


def _data(n=256):
    return np.random.default_rng(0).normal(size=(n, 8, 8)).astype("float32")


def _vae(**kwargs):
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8), latent_dim=2, hidden_units=(16,)),
        **kwargs,
    )
    vae.compile(optimizer="adam", steps_per_execution=1)
    return vae


class BetaRecorder(keras.callbacks.Callback):
    """Records beta as the step of every batch sees it."""

    def __init__(self):
        super().__init__()
        self.betas = []

    def on_train_batch_begin(self, batch, logs=None):
        self.betas.append(float(keras.ops.convert_to_numpy(self.model.beta)))


def test_beta_follows_the_schedule_at_every_batch():
    vae = _vae()
    recorder = BetaRecorder()
    scheduler = BetaScheduler(LinearWarmup(steps=10, maximum=2.0))
    history = vae.fit(
        _data(), epochs=2, batch_size=32, verbose=0, callbacks=[scheduler, recorder]
    )
    assert recorder.betas == pytest.approx([min(s / 10, 1.0) * 2.0 for s in range(16)])
    assert history.history["beta"] == pytest.approx([1.4, 2.0])


def test_the_scheduled_beta_is_the_one_the_step_trains_with():
    # beta = 0 for the whole run: the loss is the reconstruction term alone.
    vae = _vae(beta=5.0)
    scheduler = BetaScheduler(lambda step: 0.0, update_freq="epoch")
    history = vae.fit(
        _data(), epochs=1, batch_size=32, verbose=0, callbacks=[scheduler]
    )
    assert history.history["loss"] == pytest.approx(
        history.history["reconstruction_loss"]
    )
    assert history.history["kl_loss"][0] > 0


def test_a_second_fit_continues_the_schedule():
    vae = _vae()
    scheduler = BetaScheduler(LinearWarmup(steps=100), update_freq="epoch")
    vae.fit(_data(), epochs=1, batch_size=32, verbose=0, callbacks=[scheduler])
    history = vae.fit(
        _data(), epochs=1, batch_size=32, verbose=0, callbacks=[scheduler]
    )
    # 8 steps done before this epoch.
    assert history.history["beta"] == pytest.approx([0.08])


def test_beta_scheduler_drives_a_kl_regularizer_inside_a_functional_model():
    inputs = keras.Input((4,))
    mean, raw_scale = keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)
    regularizer = keras_vae.layers.KLRegularizer(beta=9.0)
    mean, raw_scale = regularizer([mean, raw_scale])
    model = keras.Model(inputs, keras.layers.Concatenate()([mean, raw_scale]))
    model.compile(optimizer="adam", loss="mse")
    scheduler = BetaScheduler(lambda step: 0.25)
    model.fit(np.ones((8, 4)), np.ones((8, 4)), verbose=0, callbacks=[scheduler])
    assert float(keras.ops.convert_to_numpy(regularizer.beta)) == 0.25


def test_capacity_scheduler_sets_c_and_logs_it():
    vae = _vae(beta=50.0, capacity=0.0)
    scheduler = CapacityScheduler(LinearWarmup(steps=16, maximum=4.0))
    history = vae.fit(
        _data(), epochs=3, batch_size=32, verbose=0, callbacks=[scheduler]
    )
    assert history.history["capacity"] == pytest.approx([1.75, 3.75, 4.0])
    assert float(keras.ops.convert_to_numpy(vae.capacity)) == 4.0


def test_capacity_objective_holds_the_kl_near_its_target():
    # With a heavy weight on |KL - C| the KL settles at C, not at zero.
    x = _data(512)
    kls = {}
    for target in (0.0, 3.0):
        keras.utils.set_random_seed(0)
        vae = _vae(beta=200.0, capacity=target)
        vae.fit(x, epochs=10, batch_size=16, verbose=0)
        kls[target] = vae.evaluate(x, verbose=0, return_dict=True)["kl_loss"]
    assert kls[0.0] < 0.5
    assert kls[3.0] == pytest.approx(3.0, abs=0.5)


def test_capacity_scheduler_needs_a_capacity_term():
    vae = _vae()
    scheduler = CapacityScheduler(LinearWarmup(steps=4, maximum=1.0))
    with pytest.raises(ValueError, match="capacity=0.0"):
        vae.fit(_data(), epochs=1, verbose=0, callbacks=[scheduler])


def test_scheduler_needs_a_kl_regularizer():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="no KLRegularizer"):
        model.fit(
            np.ones((8, 4)),
            np.ones((8, 4)),
            verbose=0,
            callbacks=[BetaScheduler(lambda step: 1.0)],
        )


def test_scheduler_rejects_bad_arguments_and_values():
    with pytest.raises(TypeError, match="callable"):
        BetaScheduler(1.0)
    with pytest.raises(ValueError, match="update_freq"):
        BetaScheduler(lambda step: 1.0, update_freq="step")
    vae = _vae()
    with pytest.raises(ValueError, match=r"returned -1.0 at step 0"):
        vae.fit(_data(), epochs=1, verbose=0, callbacks=[BetaScheduler(lambda s: -1.0)])
