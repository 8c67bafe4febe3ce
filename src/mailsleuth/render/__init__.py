"""Renderers read only the finished Report."""
