"""DNS through one injected resolver interface. Outcomes are values (Status), never exceptions."""

from mailsleuth.dns.base import Answer, Resolver, Status

__all__ = ["Answer", "Resolver", "Status"]
