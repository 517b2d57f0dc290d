"""The autoencoder architectures' names and default sizes, apart from Keras, so the registry, the pages and
scoring can use them without importing it."""

import math

#: architecture -> one line for the Train page
ARCHITECTURES = {
    "dense": "Dense encoder and mirrored decoder (the default).",
    "sparse": "Dense, with an L1 penalty on the code so few code units fire for a row.",
    "denoising": "Dense, trained to rebuild clean rows from rows with Gaussian noise added (training only).",
    "variational": "Encoder to a mean and a spread of the code, a sampled code, decoder; scored on the mean code (deterministic).",
    "conv1d": "Convolutions along the row, for rows that are ordered signals (a heartbeat's samples).",
    "lstm": "A recurrent sequence autoencoder for signals; small, but slow on a CPU.",
}
SEQUENCE_ARCHITECTURES = ("conv1d", "lstm")
#: The architectures that are a chain of Dense layers at inference (scored in NumPy, see core.dense_forward).
DENSE_FAMILY = tuple(name for name in ARCHITECTURES if name not in SEQUENCE_ARCHITECTURES)

#: Tables with at most this many columns count as narrow for the default sizes.
NARROW_TABLE = 16


def default_architecture(n_features: int) -> tuple[tuple[int, ...], int]:
    """Hidden widths and code size scaled to the number of input columns.

    The code grows with the square root of the columns (21 columns: 3 units; a
    140-sample signal: 8 units inside 64-32, the shape the Keras and TensorFlow
    tutorials use). Narrow tables, up to 16 columns, have little to compress:
    they keep at least 4 code units (fewer than the columns) and a first hidden
    layer of at least 4 times the code. Measured: on annthyroid (6 columns) a
    6-4-2 network reached ROC-AUC 0.92 and 6-16-4 0.96, while on cardio (21
    columns) 4 units did worse than 3 (0.956 against 0.965).
    """
    code = round(0.7 * n_features ** 0.5)
    if n_features <= NARROW_TABLE:
        code = max(code, min(4, n_features - 2))
    code = max(1, min(16, n_features - 1, max(code, 2)))
    widen = 4 if n_features <= NARROW_TABLE else 2
    first = max(widen * code, min(64, 2 ** round(math.log2(max(n_features, 2) * 0.5))))
    hidden = [first]
    while hidden[-1] // 2 > code * 2 and len(hidden) < 3:
        hidden.append(hidden[-1] // 2)
    return tuple(hidden), code
