"""The AudioSet engine's generation, kept apart from the engine: a rescan compares it with each
file's provenance without importing the engine's numerics (ONNX Runtime, scipy.fft)."""

#: raised when what the engine says changes, so files heard by an older engine are heard again
GENERATION = 2
