"""Ceasefire watcher: watch news feeds for ceasefire and peace-proposal stories and track
how the terms on the table change."""

__version__ = "0.1.0"
