"""Immutable data model. Imports nothing else from mailsleuth."""
