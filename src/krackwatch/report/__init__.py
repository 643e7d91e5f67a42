"""Renderers: turn krackwatch results into tables, JSON and other report formats."""
