"""Content signals: what a message wants (lures) and how its sender presents itself."""
