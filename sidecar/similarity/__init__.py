"""Sounds like: the aisfx embedding network (no torch), embeddings per block and per file,
nearest-neighbour search over the library."""
