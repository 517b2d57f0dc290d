"""The dense autoencoders' inference in NumPy, so scoring needs no TensorFlow.

At inference the dense family (dense, sparse, denoising, variational; see
:mod:`core.network`) is a chain of Dense layers: Dropout and GaussianNoise are
the identity, the sparse model's activity regularizer only adds a training loss,
and the variational model's sampled code is its mean, the Dense layer named
``code``. So a model is its encoder's (kernel, bias, activation) up to ``code``
and its decoder's from there to ``reconstruction``, all float32, with each
activation computed as Keras's TensorFlow backend computes it. Importing Keras
costs seconds; a 10-row score should not.

:class:`DenseForward` is built from a Keras model in memory or straight from a
``.keras`` archive (``config.json`` + ``model.weights.h5``); anything it does
not recognise (another layer, a quantized or mixed-precision layer, a weight of
an unexpected shape) makes the builder return ``None`` and the caller uses Keras.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

CODE_LAYER = "code"
OUTPUT_LAYER = "reconstruction"
#: Layers that are the identity at inference.
IDENTITY_LAYERS = ("Dropout", "GaussianNoise")
#: The variational model's sampling layer: at inference it passes its first input (the mean) on.
SAMPLING_LAYER = "SampledCode"
#: TensorFlow's SELU constants (tf.nn.selu: scale, and scale × alpha).
_SELU_SCALE = np.float32(1.0507009873554804934193349852946)
_SELU_SCALE_ALPHA = np.float32(1.7580993408473768599402175208123)
_SQRT_2 = np.float32(1.4142135623730951)
_HALF = np.float32(0.5)
_ONE = np.float32(1.0)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _selu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, _SELU_SCALE * x, _SELU_SCALE_ALPHA * np.expm1(np.minimum(x, 0)))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU: ``keras.activations.gelu`` defaults to ``approximate=False`` (0.5·x·(1 + erf(x/√2)))."""
    from scipy.special import erf

    return _HALF * x * (_ONE + erf(x / _SQRT_2))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(x)


#: Keras activation name → float32 NumPy function (may work in place on its argument).
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": _relu,
    "tanh": np.tanh,
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
    "sigmoid": _sigmoid,
}


@dataclass(frozen=True, eq=False)
class DenseLayer:
    """One Dense layer at inference: ``activation(x @ kernel + bias)``, float32 in and out.

    The products are summed in float64 and rounded once to float32. A float32 BLAS
    product sums in an order that depends on how many rows it is given (OpenBLAS
    does), so a row scored alone and the same row in a file of a million would
    differ in the last bit; rounded from float64 they agree (barring a sum within
    1e-16 of a float32 rounding boundary), and sit within float32 rounding of Keras.
    """

    kernel: np.ndarray
    bias: np.ndarray
    activation: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "_kernel64", self.kernel.astype(np.float64))
        object.__setattr__(self, "_bias64", self.bias.astype(np.float64))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = x.astype(np.float64) @ self._kernel64
        out += self._bias64
        return ACTIVATIONS[self.activation](out.astype(np.float32))


@dataclass(frozen=True, eq=False)
class DenseForward:
    """A dense-family autoencoder's inference: rows → (reconstruction, code), float32."""

    encoder: tuple[DenseLayer, ...]
    decoder: tuple[DenseLayer, ...]
    #: Every weight of the Keras model, the variational log-variance branch included (``count_params``).
    n_parameters: int

    @property
    def n_inputs(self) -> int:
        return int(self.encoder[0].kernel.shape[0])

    @property
    def n_outputs(self) -> int:
        return int(self.decoder[-1].kernel.shape[1])

    @property
    def code_size(self) -> int:
        return int(self.encoder[-1].kernel.shape[1])

    def encode(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float32)
        for layer in self.encoder:
            h = layer(h)
        return h

    def decode(self, codes: np.ndarray) -> np.ndarray:
        h = np.asarray(codes, dtype=np.float32)
        for layer in self.decoder:
            h = layer(h)
        return h

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes = self.encode(x)
        return self.decode(codes), codes

    # -- builders ----------------------------------------------------------------------------
    @classmethod
    def from_model(cls, model: Any) -> Optional["DenseForward"]:
        """From a Keras model in memory; None when it is not a dense-family autoencoder."""
        try:
            config = {"class_name": "Functional", "config": model.get_config()}
            layers = {layer.name: layer for layer in model.layers}
            weights = {name: [np.asarray(w) for w in layer.get_weights()] for name, layer in layers.items()}
        except Exception:  # not a functional model, or one Keras cannot describe
            return None
        return _build(config, weights)

    @classmethod
    def from_keras_archive(cls, data: bytes) -> Optional["DenseForward"]:
        """From a ``.keras`` file's bytes (read with json and h5py, no Keras); None when not dense-family.

        Keras 3 writes each layer's variables to ``layers/<snake_case class name>[_<n>]/vars/<i>``
        in ``model.weights.h5``, numbering the layers of one class in the order of ``model.layers``
        (= the config's layer list), and tags each ``vars`` group with the layer's name
        (``keras/src/saving/saving_lib.py``: ``_save_container_state``, ``H5IOStore``). Both are checked.
        """
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                config = json.loads(zf.read("config.json").decode("utf-8"))
                h5_bytes = zf.read("model.weights.h5")
            layer_configs = config["config"]["layers"]
            if config.get("class_name") != "Functional" or not _only_known_layers(layer_configs):
                return None
            weights = _read_h5_weights(h5_bytes, layer_configs)
        except Exception:  # damaged or foreign: Keras decides (and says what is wrong)
            return None
        if weights is None:
            return None
        return _build(config, weights)


def _only_known_layers(layer_configs: list) -> bool:
    known = {"InputLayer", "Dense", SAMPLING_LAYER, *IDENTITY_LAYERS}
    return all(isinstance(c, dict) and c.get("class_name") in known for c in layer_configs)


def _snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case`` for class names (``InputLayer`` → ``input_layer``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _read_h5_weights(h5_bytes: bytes, layer_configs: list) -> Optional[dict[str, list[np.ndarray]]]:
    """Each layer's variables by layer name, located as Keras's loader locates them."""
    import h5py

    weights: dict[str, list[np.ndarray]] = {}
    used: dict[str, int] = {}
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        for layer in layer_configs:
            base = _snake_case(layer["class_name"])
            if base in used:
                used[base] += 1
                path = f"layers/{base}_{used[base]}/vars"
            else:
                used[base] = 0
                path = f"layers/{base}/vars"
            name = layer["config"]["name"]
            group = f.get(path)
            if layer["class_name"] != "Dense":
                continue
            if not isinstance(group, h5py.Group) or group.attrs.get("name", name) != name:
                return None
            values = [group[str(i)] for i in range(len(group))]
            if any(not isinstance(v, h5py.Dataset) or v.dtype != np.float32 for v in values):
                return None
            weights[name] = [np.asarray(v[()], dtype=np.float32) for v in values]
    return weights


def _inbound(layer_config: dict) -> list[str]:
    """Names of the layers feeding a layer (Keras 3 functional config)."""
    names = []
    for node in layer_config.get("inbound_nodes", []):
        args = node["args"]
        first = args[0] if args else []
        tensors = first if isinstance(first, list) else [first]
        names.extend(t["config"]["keras_history"][0] for t in tensors)
    return names


def _dense_layer(config: dict, weights: list[np.ndarray]) -> Optional[DenseLayer]:
    c = config["config"]
    dtype = c.get("dtype")
    dtype_name = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    activation = c.get("activation", "linear")
    if (dtype_name not in (None, "float32") or not isinstance(activation, str) or activation not in ACTIVATIONS
            or not c.get("use_bias", True) or c.get("lora_rank") or c.get("quantization_config") or len(weights) != 2):
        return None
    kernel, bias = (np.ascontiguousarray(w, dtype=np.float32) for w in weights)
    if kernel.ndim != 2 or bias.shape != (kernel.shape[1],) or kernel.shape[1] != int(c.get("units", -1)):
        return None
    kernel.setflags(write=False)
    bias.setflags(write=False)
    return DenseLayer(kernel, bias, activation)


def _build(config: dict, weights: dict[str, list[np.ndarray]]) -> Optional[DenseForward]:
    """Walk back from ``reconstruction`` to the input; the variational sampling layer follows its mean."""
    layer_configs = config["config"]["layers"]
    if not _only_known_layers(layer_configs):
        return None
    by_name = {c["config"]["name"]: c for c in layer_configs}
    if len(by_name) != len(layer_configs) or OUTPUT_LAYER not in by_name or CODE_LAYER not in by_name:
        return None
    chain: list[str] = []
    name = OUTPUT_LAYER
    while True:
        layer = by_name.get(name)
        if layer is None or name in chain or len(chain) > len(by_name):
            return None
        chain.append(name)
        if layer["class_name"] == "InputLayer":
            break
        inbound = _inbound(layer)
        if layer["class_name"] == SAMPLING_LAYER:
            if len(inbound) != 2 or inbound[0] != CODE_LAYER:
                return None
            name = inbound[0]
        elif len(inbound) != 1:
            return None
        else:
            name = inbound[0]
    chain.reverse()
    dense = [n for n in chain if by_name[n]["class_name"] == "Dense"]
    if CODE_LAYER not in dense or dense[-1] != OUTPUT_LAYER:
        return None
    layers = []
    for n in dense:
        built = _dense_layer(by_name[n], weights.get(n, []))
        if built is None:
            return None
        layers.append(built)
    for before, after in zip(layers, layers[1:]):
        if before.kernel.shape[1] != after.kernel.shape[0]:
            return None
    split = dense.index(CODE_LAYER) + 1
    if layers[-1].kernel.shape[1] != layers[0].kernel.shape[0]:
        return None
    n_parameters = sum(int(w.size) for c in layer_configs if c["class_name"] == "Dense" for w in weights.get(c["config"]["name"], []))
    return DenseForward(tuple(layers[:split]), tuple(layers[split:]), n_parameters)
