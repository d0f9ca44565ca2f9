"""Search by meaning: an English sentence encoder (all-MiniLM-L6-v2) run without torch, and the
two ways a file matches a query (its own words, and the AudioSet labels it was heard as)."""
