"""CLI commands (placeholder until the subsystem lands)."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Attach this subsystem's commands to the root app."""
