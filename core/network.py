"""The Keras 3 autoencoder networks, separate from the detector that trains them.

Pure ``keras`` (``keras.layers``, ``keras.ops``; no backend calls) so they run on
TensorFlow, JAX or PyTorch. Every random choice is seeded on the layer itself;
no global Keras state is touched, since several users' models live in one
server process. Every network names its bottleneck layer ``code`` (for the
variational one: the mean of the code), which the detector reads for its
latent score.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
from keras import ops

CODE_LAYER = "code"
OUTPUT_LAYER = "reconstruction"

from core.architectures import ARCHITECTURES, NARROW_TABLE, SEQUENCE_ARCHITECTURES, default_architecture  # noqa: E402,F401  (re-exported)


@keras.saving.register_keras_serializable(package="anomaly_lab")
class SampledCode(keras.layers.Layer):
    """The reparameterised code of a variational autoencoder.

    While training it returns mean + exp(log_var / 2) · noise and adds β·KL to the
    loss; otherwise it returns the mean, so scoring is deterministic.
    """

    def __init__(self, beta: float = 1.0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=None):
        mean, log_var = inputs
        if not training:
            return mean
        kl = -0.5 * ops.mean(ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1))
        self.add_loss(self.beta * kl)
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * noise

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}


class _Seeds:
    """A fresh, reproducible seed for each layer."""

    def __init__(self, seed: int) -> None:
        self.next_seed = seed * 1000

    def __call__(self) -> int:
        self.next_seed += 1
        return self.next_seed

    def init(self):
        return keras.initializers.GlorotUniform(seed=self())


def _dense_stack(x, widths, activation, dropout, seeds: _Seeds, prefix: str):
    for i, width in enumerate(widths):
        x = keras.layers.Dense(units=width, activation=activation, kernel_initializer=seeds.init(), name=f"{prefix}_{i}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(rate=dropout, seed=seeds(), name=f"{prefix}_dropout_{i}")(x)
    return x


def build_autoencoder(
    n_features: int,
    *,
    architecture: str = "dense",
    hidden_sizes: Sequence[int] = (32, 16),
    code_size: int = 8,
    activation: str = "relu",
    dropout: float = 0.0,
    output_activation: str = "sigmoid",
    sparsity: float = 1e-4,
    noise_std: float = 0.1,
    beta: float = 1.0,
    seed: int = 0,
) -> keras.Model:
    """Build one of :data:`ARCHITECTURES`; the code layer is linear so distances between codes mean something."""
    if architecture in SEQUENCE_ARCHITECTURES:
        return _sequence_autoencoder(n_features, architecture, hidden_sizes, code_size, activation, output_activation, seed)
    seeds = _Seeds(seed)
    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    if architecture == "denoising":
        x = keras.layers.GaussianNoise(stddev=noise_std, seed=seeds(), name="input_noise")(x)
    x = _dense_stack(x, hidden_sizes, activation, dropout, seeds, "encoder")
    if architecture == "variational":
        mean = keras.layers.Dense(units=code_size, kernel_initializer=seeds.init(), name=CODE_LAYER)(x)
        log_var = keras.layers.Dense(units=code_size, kernel_initializer=keras.initializers.Zeros(), name="code_log_var")(x)
        code = SampledCode(beta=beta, seed=seeds(), name="sampled_code")([mean, log_var])
    else:
        regularizer = keras.regularizers.L1(sparsity) if architecture == "sparse" else None
        code = keras.layers.Dense(units=code_size, kernel_initializer=seeds.init(), activity_regularizer=regularizer, name=CODE_LAYER)(x)
    x = _dense_stack(code, tuple(reversed(tuple(hidden_sizes))), activation, dropout, seeds, "decoder")
    outputs = keras.layers.Dense(units=n_features, activation=output_activation, kernel_initializer=seeds.init(), name=OUTPUT_LAYER)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=f"{architecture}_autoencoder")


CONV_KERNEL = 7


def conv_filters(hidden_sizes: Sequence[int]) -> tuple[int, ...]:
    """Filters of the conv1d encoder's layers: the hidden sizes, at most three (each halves the signal)."""
    return tuple(int(h) for h in hidden_sizes)[:3] or (32, 16)


def _sequence_autoencoder(n_features, architecture, hidden_sizes, code_size, activation, output_activation, seed) -> keras.Model:
    """Conv1D or LSTM autoencoder over the row read as a signal of ``n_features`` samples."""
    seeds = _Seeds(seed)
    inputs = keras.Input(shape=(n_features,), name="features")
    x = keras.layers.Reshape((n_features, 1), name="as_signal")(inputs)
    if architecture == "conv1d":
        filters = conv_filters(hidden_sizes)
        stride_total = 2 ** len(filters)
        padded = int(math.ceil(n_features / stride_total) * stride_total)
        if padded != n_features:
            x = keras.layers.ZeroPadding1D(padding=(0, padded - n_features), name="pad")(x)
        for i, f in enumerate(filters):
            x = keras.layers.Conv1D(filters=f, kernel_size=CONV_KERNEL, strides=2, padding="same", activation=activation, kernel_initializer=seeds.init(), name=f"encoder_conv_{i}")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        code = keras.layers.Dense(units=code_size, kernel_initializer=seeds.init(), name=CODE_LAYER)(x)
        x = keras.layers.Dense(units=(padded // stride_total) * filters[-1], activation=activation, kernel_initializer=seeds.init(), name="decoder_dense")(code)
        x = keras.layers.Reshape((padded // stride_total, filters[-1]), name="unflatten")(x)
        for i, f in enumerate(reversed(filters)):
            x = keras.layers.Conv1DTranspose(filters=f, kernel_size=CONV_KERNEL, strides=2, padding="same", activation=activation, kernel_initializer=seeds.init(), name=f"decoder_conv_{i}")(x)
        x = keras.layers.Conv1D(filters=1, kernel_size=CONV_KERNEL, padding="same", activation=output_activation, kernel_initializer=seeds.init(), name="to_signal")(x)
        if padded != n_features:
            x = keras.layers.Cropping1D(cropping=(0, padded - n_features), name="crop")(x)
    else:
        units = int(min(max(hidden_sizes[0] if hidden_sizes else 32, 8), 64))
        x = keras.layers.LSTM(units=units, kernel_initializer=seeds.init(), recurrent_initializer=keras.initializers.Orthogonal(seed=seeds()), name="encoder_lstm")(x)
        code = keras.layers.Dense(units=code_size, kernel_initializer=seeds.init(), name=CODE_LAYER)(x)
        x = keras.layers.RepeatVector(n_features, name="repeat")(code)
        x = keras.layers.LSTM(units=units, return_sequences=True, kernel_initializer=seeds.init(), recurrent_initializer=keras.initializers.Orthogonal(seed=seeds()), name="decoder_lstm")(x)
        x = keras.layers.TimeDistributed(keras.layers.Dense(1, activation=output_activation, kernel_initializer=seeds.init()), name="to_signal")(x)
    outputs = keras.layers.Flatten(name=OUTPUT_LAYER)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=f"{architecture}_autoencoder")


def encoder_of(autoencoder: keras.Model) -> keras.Model:
    """The encoder half (input to code) of a model built by :func:`build_autoencoder`."""
    return keras.Model(inputs=autoencoder.input, outputs=autoencoder.get_layer(CODE_LAYER).output, name="encoder")
