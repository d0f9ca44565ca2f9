"""The canonical record and the containers that carry it."""
