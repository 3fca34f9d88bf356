"""Fixture builders for the importer tests (generated ID numbers, not real people)."""
