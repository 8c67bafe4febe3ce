"""Spam-filter stamps: what a filter on the path wrote about the message (a claim, like A-R)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mailsleuth.model.fastinit import fast_init


class MeaningSource(StrEnum):
    """Where the plain-language meaning of a rule came from."""

    MAILSLEUTH = "mailsleuth"  # data/spam_stamps/*.toml, written for this project
    LOCAL_RULES = "spamassassin rules on this machine"  # `describe` lines of the installed *.cf files
    STAMP = "the filter's own report"  # a description written in the stamp (X-Spam-Report, Barracuda report)
    UNKNOWN = "unknown rule"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SpamRule:
    """One rule (test, symbol) a filter says fired, with its score when the stamp gives one."""

    name: str
    score: float | None
    meaning: str
    category: str  # human label: "URI blocklist", "Bayes", "authentication", ...
    source: MeaningSource
    local_description: str | None = None  # the installed rule file's own words, when present
    detail: str = ""  # options the filter wrote next to the rule (rspamd [..], report continuation)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SpamStamp:
    """One filter's stamp, assembled from the header fields it wrote together."""

    vendor: str  # spamassassin, amavis, barracuda, rspamd, microsoft, proofpoint, antivirus, ...
    headers: tuple[str, ...]  # refs like "X-Spam-Status[0]"
    header_index: int  # index among all headers of the topmost field of this stamp
    is_spam: bool | None = None  # the filter's verdict when it wrote one
    score: float | None = None
    threshold: float | None = None  # required= / TAG_LEVEL / rspamd reject score
    tagged_above: float | None = None
    autolearn: str | None = None
    version: str | None = None
    host: str | None = None  # the host the filter ran on, when the stamp names it
    rules: tuple[SpamRule, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)  # vendor fields (SCL, SFV, CAT, BCL, action, ...)
    explained: dict[str, str] = field(default_factory=dict)  # field -> plain meaning of its value
    trusted: bool = False  # written inside the recipient's trust boundary
    outbound: bool = False  # the vendor marks it as the sending side's own scan (e.g. Microsoft DIR:OUT)
    parse_errors: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return self.headers[0] if self.headers else self.vendor


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SpamStampsReport:
    """The artifact of ``spam.stamps``."""

    stamps: tuple[SpamStamp, ...]
    rules_dir: str | None  # where local SpamAssassin rule descriptions were read from (None: not used)
    local_descriptions: int  # how many `describe` lines were available there
    meaning_sources: dict[str, int] = field(default_factory=dict)  # source -> number of rules explained by it
