"""The way of one file: probe -> fingerprint -> classify -> describe -> merge -> write -> verify -> index -> journal."""
