"""The Keras 3 autoencoder network, separate from the detector that trains it.

Pure ``keras`` (no backend calls) so it runs on TensorFlow, JAX or PyTorch.
Every random choice is seeded on the layer itself; no global Keras state is
touched, since several users' models live in one server process.
"""

from __future__ import annotations

from typing import Sequence

import math

import keras

CODE_LAYER = "code"
OUTPUT_LAYER = "reconstruction"


def default_architecture(n_features: int) -> tuple[tuple[int, ...], int]:
    """Hidden widths and code size scaled to the number of input columns.

    A 6-column table gets a small bottleneck (2 units); a 140-sample signal gets
    64-32 around a code of 8, the shape the Keras and TensorFlow tutorials use.
    """
    code = max(2, min(16, round(n_features ** 0.5 * 0.7)))
    first = max(2 * code, min(64, 2 ** round(math.log2(max(n_features, 2) * 0.5))))
    hidden = [first]
    while hidden[-1] // 2 > code * 2 and len(hidden) < 3:
        hidden.append(hidden[-1] // 2)
    return tuple(hidden), code


def build_autoencoder(
    n_features: int,
    *,
    hidden_sizes: Sequence[int] = (32, 16),
    code_size: int = 8,
    activation: str = "relu",
    dropout: float = 0.0,
    output_activation: str = "sigmoid",
    seed: int = 0,
) -> keras.Model:
    """A dense encoder, a linear code layer and a mirrored decoder.

    The code layer is linear so that distances between codes mean something;
    the output activation matches the scaler (sigmoid for [0, 1] data).
    """
    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    layer_seed = seed * 1000
    for i, width in enumerate(hidden_sizes):
        layer_seed += 1
        x = keras.layers.Dense(
            units=width,
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed),
            name=f"encoder_{i}",
        )(x)
        if dropout > 0:
            x = keras.layers.Dropout(rate=dropout, seed=layer_seed, name=f"encoder_dropout_{i}")(x)
    code = keras.layers.Dense(
        units=code_size,
        activation="linear",
        kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed + 1),
        name=CODE_LAYER,
    )(x)
    x = code
    layer_seed += 1
    for i, width in enumerate(reversed(tuple(hidden_sizes))):
        layer_seed += 1
        x = keras.layers.Dense(
            units=width,
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed),
            name=f"decoder_{i}",
        )(x)
        if dropout > 0:
            x = keras.layers.Dropout(rate=dropout, seed=layer_seed, name=f"decoder_dropout_{i}")(x)
    outputs = keras.layers.Dense(
        units=n_features,
        activation=output_activation,
        kernel_initializer=keras.initializers.GlorotUniform(seed=layer_seed + 1),
        name=OUTPUT_LAYER,
    )(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="autoencoder")


def encoder_of(autoencoder: keras.Model) -> keras.Model:
    """The encoder half (input to code) of a model built by :func:`build_autoencoder`."""
    return keras.Model(inputs=autoencoder.input, outputs=autoencoder.get_layer(CODE_LAYER).output, name="encoder")
