"""Terminal renderers of report sections, one module per area, discovered by render.terminal.

A module registers ``@section("check.id", title=..., order=N)`` functions taking
``(artifact, console)`` and printing it. Sections without a renderer get a generic table.
"""
