"""Check modules, one per topic. Each registers its checks with mailsleuth.engine.check.

Modules here are discovered by the engine; adding a module adds its checks.
"""
