"""People's API tokens and the service's error types (each with its HTTP status).

A token is 32 random bytes (``secrets.token_urlsafe``) shown once when the person is
created; the database keeps only its SHA-256. A fast hash is the right one here: the
secret has 256 bits of entropy, so there is nothing to brute-force (slow password
hashes exist for low-entropy human passwords), and the lookup stays an indexed
equality on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from labelwise.errors import LabelwiseError

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Person",
    "ServiceError",
    "Unauthorized",
    "hash_token",
    "new_token",
]


class ServiceError(LabelwiseError):
    """An error a request caused; ``status`` is its HTTP status code."""

    status = 400


class Unauthorized(ServiceError):
    """No token, or a token that belongs to nobody."""

    status = 401


class Forbidden(ServiceError):
    """A valid token without the right to this project or endpoint."""

    status = 403


class NotFound(ServiceError):
    """No such project, item or person."""

    status = 404


class Conflict(ServiceError):
    """The request clashes with the current state (item full, already answered)."""

    status = 409


class Invalid(ServiceError):
    """A request body that breaks the project's schema (a label outside the classes)."""

    status = 422


@dataclass(frozen=True)
class Person:
    """The caller: database id, name and role (``annotator`` or ``admin``)."""

    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Whether this person may use the admin endpoints."""
        return self.role == "admin"


def new_token() -> str:
    """A fresh API token (``lw_`` and 43 URL-safe characters)."""
    return "lw_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest the database stores for ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
