"""What a project and its items look like on the way in: validated once, here.

Project names are URL slugs; classes are short, distinct, non-empty names; keyboard
keys are single characters; an image item names a file that must resolve inside the
project folder (no ``..``, no absolute path, no symlink out of it); a URL item must be
``http(s)``. Anything else is refused with a message that names the field and value.
Text is stored verbatim and always rendered as text (never as HTML) by the pages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labelwise.errors import InputError
from labelwise.routing import POLICIES

__all__ = ["ItemIn", "ProjectSpec", "check_image_path"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DEFAULT_KEYS = "1234567890qwertyuiop"


class ProjectSpec(BaseModel):
    """A project's label schema, routing and limits (the body of ``POST /api/projects``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)
    title: str = Field(default="", max_length=200)
    classes: list[str] = Field(min_length=2, max_length=50)
    keys: list[str] | None = None
    instructions: str = Field(default="", max_length=20_000)
    template: str = Field(default="", max_length=20_000)
    policy: str = "dynamic"
    policy_params: dict[str, Any] = Field(default_factory=dict)
    overlap: int = Field(default=3, ge=1, le=50)
    lease_seconds: int = Field(default=600, ge=5, le=86_400)
    cost_per_answer: float = Field(default=0.05, ge=0)
    model_every: int = Field(default=100, ge=0)
    folder: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                f"project name {v!r} must be 1-64 characters of a-z, 0-9, '-' or '_', "
                "starting with a letter or digit"
            )
        return v

    @field_validator("classes")
    @classmethod
    def _classes(cls, v: list[str]) -> list[str]:
        for c in v:
            if not c.strip() or len(c) > 100:
                raise ValueError(f"class name {c!r} must be 1-100 non-blank characters")
        if len(set(v)) != len(v):
            raise ValueError(f"class names must be distinct; got {v}")
        return v

    @field_validator("policy")
    @classmethod
    def _policy(cls, v: str) -> str:
        if v not in POLICIES:
            raise ValueError(f"unknown routing policy {v!r}; choose one of {', '.join(POLICIES)}")
        return v

    @model_validator(mode="after")
    def _keys(self) -> ProjectSpec:
        if self.keys is None:
            if len(self.classes) > len(_DEFAULT_KEYS):
                raise ValueError(f"give keys for more than {len(_DEFAULT_KEYS)} classes")
            self.keys = list(_DEFAULT_KEYS[: len(self.classes)])
        if len(self.keys) != len(self.classes):
            raise ValueError(
                f"keys must have one entry per class ({len(self.classes)}); got {len(self.keys)}"
            )
        reserved = {"s", "u", " "}
        for k in self.keys:
            if len(k) != 1 or not k.isprintable() or k.lower() in reserved:
                raise ValueError(
                    f"keyboard key {k!r} must be one printable character other than "
                    "'s' (skip), 'u' (undo) and space"
                )
        if len({k.lower() for k in self.keys}) != len(self.keys):
            raise ValueError(f"keyboard keys must be distinct; got {self.keys}")
        return self


class ItemIn(BaseModel):
    """One item to import: its content by kind, optionally a gold class and features."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    kind: Literal["text", "image", "url", "json"] = "text"
    content: Any
    gold: str | None = None
    features: list[float] | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _content(self) -> ItemIn:
        if self.kind == "json":
            if not isinstance(self.content, dict):
                raise ValueError(f"item {self.id!r}: a json item's content must be an object")
            if len(json.dumps(self.content)) > 100_000:
                raise ValueError(f"item {self.id!r}: json content longer than 100,000 characters")
        else:
            if not isinstance(self.content, str) or not self.content:
                raise ValueError(f"item {self.id!r}: content must be a non-empty string")
            if len(self.content) > 100_000:
                raise ValueError(f"item {self.id!r}: content longer than 100,000 characters")
            if self.kind == "url" and not re.match(r"^https?://", self.content):
                raise ValueError(
                    f"item {self.id!r}: a url item must start with http:// or https://; "
                    f"got {self.content[:80]!r}"
                )
        return self

    def stored_content(self) -> str:
        """The content as the items table stores it (JSON text for json items)."""
        return json.dumps(self.content) if self.kind == "json" else str(self.content)


def check_image_path(folder: str | Path, relative: str) -> Path:
    """The file ``relative`` names under the project ``folder``; raises
    :class:`InputError` when it points outside it (``..``, absolute, symlink) or is missing.
    """
    if not folder:
        raise InputError("image items need a project folder; this project has none.")
    root = Path(folder).resolve()
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts or "\x00" in relative:
        raise InputError(f"image path {relative!r} must be relative and inside the project folder.")
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise InputError(f"image path {relative!r} resolves outside the project folder.")
    if not path.is_file():
        raise InputError(f"image file {relative!r} does not exist in the project folder.")
    return path
