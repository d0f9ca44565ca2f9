"""Decoding, 16-bit transcoding and acoustic descriptors."""
