"""Small helpers the specific checkers share (YouTube, GitHub, courses, files)."""

from __future__ import annotations

import os

from monitor.checkers.base import CheckContext
from monitor.domain.models import Metadata, Resource


def previous_meta(resource: Resource, ctx: CheckContext) -> Metadata:
    """The last stored metadata: what a partial or blocked check keeps instead of forgetting."""
    previous = ctx.previous.get(resource.id)
    return previous.meta if previous is not None else Metadata()


def env_first(*names: str) -> str | None:
    """The first non-empty environment variable among `names` (secrets live in CI env)."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def redact(text: str, secrets: tuple[str | None, ...]) -> str:
    """Remove secrets (proxy URL with credentials, token) from text that may be shown."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
