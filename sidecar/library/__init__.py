"""The library: walking folders, recognising formats, audio fingerprints."""
