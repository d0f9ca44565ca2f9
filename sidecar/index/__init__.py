"""The index: one store module runs all SQL; the search language compiles to it."""
