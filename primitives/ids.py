"""Identifiers: time-ordered, so sorting by id sorts by creation (message paging uses it)."""

from __future__ import annotations

from bson import ObjectId


def new_id() -> str:
    return str(ObjectId())
