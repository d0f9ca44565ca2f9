"""SFX Sidecar: classify a sound-effects library and write what it hears where editors look."""

__version__ = "0.1.0"
