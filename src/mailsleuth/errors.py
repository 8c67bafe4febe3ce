"""The exception tree of mailsleuth.

::

    MailsleuthError
    ├── InputError          unusable input: empty, not mail, unreadable file (CLI exit 2)
    ├── ConfigError         bad configuration file, environment or flags (CLI exit 2)
    ├── DataError           a packaged knowledge file is malformed (a bug: tests catch it)
    └── CheckContractError  a check emitted a finding code it did not declare (a bug)

Parsers never raise on bad messages: damage becomes findings. Only input that cannot be
read as mail at all is an InputError. DNS failures are values (see mailsleuth.dns.base.Status),
never exceptions.
"""


class MailsleuthError(Exception):
    """Base of every error mailsleuth raises on purpose."""


class InputError(MailsleuthError):
    """The input cannot be analysed at all (empty, binary junk, unreadable)."""


class ConfigError(MailsleuthError):
    """The configuration (file, environment or flags) is invalid."""


class DataError(MailsleuthError):
    """A packaged data file is malformed."""


class CheckContractError(MailsleuthError):
    """A check broke its declared contract (emitted an undeclared code)."""
