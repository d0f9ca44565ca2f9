"""Classifiers: one interface, the MAX client, the embedded engine and a MAX-compatible server."""
