"""Data tables of the vocabulary, read with importlib.resources."""
