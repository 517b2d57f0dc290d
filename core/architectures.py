"""The autoencoder architectures' names, apart from Keras, so the registry and the pages can list them without importing it."""

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
