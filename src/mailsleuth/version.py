__version__ = "0.1.0"
#: Version of the JSON report schema (docs/report-schema.md). Bump on any incompatible change.
SCHEMA_VERSION = "mailsleuth.report/1"
