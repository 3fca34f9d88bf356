"""CLI command groups, one module per subsystem; each exposes register(root)."""
