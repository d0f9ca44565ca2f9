"""Files the vocabulary's older rules described are described again by the current ones, from the
labels their index rows keep: never heard again, and a person's fields still win (the merge)."""

from __future__ import annotations

#: the index's note of the rules every indexed file has been described by
RULES_APPLIED_KEY = "description_rules_applied"


def described_by_older_rules(store, rules_version: str) -> set[str]:
    """Indexed files whose words older rules wrote from labels the index holds. Empty once a
    scan described every one by these rules (the index notes it), so later scans read no row."""
    if not rules_version or store.meta.get(RULES_APPLIED_KEY) == rules_version:
        return set()
    out = set()
    for item in store.files.all():
        prov = item.record.provenance
        if prov.labels and prov.rules != rules_version:
            out.add(item.path)
    return out


def note_rules_applied(store, rules_version: str) -> None:
    if rules_version and store.meta.get(RULES_APPLIED_KEY) != rules_version:
        store.meta.set(RULES_APPLIED_KEY, rules_version)
