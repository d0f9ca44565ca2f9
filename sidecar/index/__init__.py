"""The index: the stores (index/sqlite, index/postgres, behind interfaces.py) run all SQL; the search
language compiles to it."""
