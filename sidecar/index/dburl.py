"""Where the index lives: a SQLite file or a PostgreSQL URL, and how to name it without its password.

A URL may carry a password (`postgresql://editor:secret@db/sfx`, or
`?password=secret`); every log line and error names the database through
`redact`, so the password never reaches a terminal, a journal or a bug report.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | None) -> bool:
    return bool(target) and str(target).lower().startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL with any password replaced by `***` (in the user part or a query parameter)."""
    if not is_postgres(url):
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hosts = netloc.rpartition("@")
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = f"{userinfo}@{hosts}"
        query = parts.query
        if query:
            pairs = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(query, keep_blank_values=True)]
            query = urlencode(pairs, safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        # not parseable as a URL: keep the scheme only, never guess where a password ends
        return url.split("://", 1)[0] + "://***"


def password_of(url: str) -> str | None:
    """The password a URL carries, so that a driver's message can be scrubbed of it too."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.password:
        return parts.password
    for key, value in parse_qsl(parts.query):
        if key.lower() == "password":
            return value
    return None


_CONNINFO_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def scrub(text: str, url: str) -> str:
    """A message (from the driver, say) with the URL's password, and any `password=...`, hidden."""
    secret = password_of(url)
    if secret:
        text = text.replace(secret, "***")
    text = _CONNINFO_PASSWORD.sub(r"\1***", text)
    return text.replace(url, redact(url))
