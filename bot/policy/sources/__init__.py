"""Seed documents the packs cite (a package so they ship as package data)."""
