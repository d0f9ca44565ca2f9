"""Learned CatID models and small named values in SQLite."""

from __future__ import annotations

import json

from sidecar.index.interfaces import StoredModel
from sidecar.index.sqlite.db import SqliteDb


class SqliteModels:
    """The ModelStore of a SQLite index: each model saved is a new version."""

    def __init__(self, db: SqliteDb):
        self.db = db

    def save(self, model: StoredModel) -> int:
        """Keep a learned model; its version (one more than the last)."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO category_models(created, embedding_model, classes, coef, intercept, report, features) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (model.created, model.embedding_model, json.dumps(model.classes), model.coef, model.intercept,
                 json.dumps(model.report), json.dumps(model.features)))
            return self.db.execute("SELECT max(version) FROM category_models").fetchone()[0]

    def latest(self) -> StoredModel | None:
        row = self.db.execute("SELECT * FROM category_models ORDER BY version DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return StoredModel(embedding_model=row["embedding_model"], classes=json.loads(row["classes"]),
                           coef=row["coef"], intercept=row["intercept"], report=json.loads(row["report"]),
                           features=json.loads(row["features"]), created=row["created"], version=row["version"])


class SqliteMeta:
    """The MetaStore of a SQLite index."""

    def __init__(self, db: SqliteDb):
        self.db = db

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        with self.db.atomic():
            self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                            "value = excluded.value", (key, value))

    def update(self, key: str, change) -> str:
        with self.db.atomic():          # BEGIN IMMEDIATE: one writer at a time, from the read on
            value = change(self.get(key))
            self.set(key, value)
        return value
