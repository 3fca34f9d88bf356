"""Policy pack YAML files (a package so they ship as package data)."""
