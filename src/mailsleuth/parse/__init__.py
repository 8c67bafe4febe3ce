"""Parsers of attacker-controlled text. None of them raises on bad input: damage becomes defects."""
