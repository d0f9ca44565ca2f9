"""The way of one file: probe -> fingerprint -> classify -> embed -> describe -> merge -> write -> index.

The write stage journals a file's original bytes before its first change, then writes and
verifies each container (write.py); only the runner's consumer touches the index.
"""
