"""Spam-filter stamps: SpamAssassin, Amavis, Barracuda, rspamd, Microsoft 365 (EOP), Proofpoint, and
virus-scan stamps, parsed into :class:`~mailsleuth.model.spam.SpamStamp` records.

Each vendor writes a handful of fields together (SpamAssassin: X-Spam-Status, -Flag, -Score,
-Level, -Report, -Checker-Version). Fields of one family are grouped into one stamp; when a field
name repeats, or the family's fields are far apart, a new stamp starts (mail that passed several
filters carries several stamps).

Rule meanings are looked up by a :class:`RuleBook` (data/spam_stamps/*.toml, written for
mailsleuth, plus the ``describe`` lines of locally installed SpamAssassin rule files). Never raises.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from itertools import chain
from pathlib import Path

from mailsleuth.model.message import Header, Message
from mailsleuth.model.spam import MeaningSource, SpamRule, SpamStamp

MAX_RULES = 300
MAX_VALUE = 20_000
GROUP_GAP = 15  # fields of one family further apart than this belong to different stamps

FAMILIES: dict[str, str] = {
    "x-spam-status": "spamassassin",
    "x-spam-flag": "spamassassin",
    "x-spam-score": "spamassassin",
    "x-spam-level": "spamassassin",
    "x-spam-report": "spamassassin",
    "x-spam-checker-version": "spamassassin",
    "x-amavisstatus": "amavis",
    "x-amavis-alert": "amavis",
    "x-virus-scanned": "antivirus",
    "x-barracuda-spam-status": "barracuda",
    "x-barracuda-spam-score": "barracuda",
    "x-barracuda-spam-flag": "barracuda",
    "x-barracuda-spam-report": "barracuda",
    "x-spamd-result": "rspamd",
    "x-rspamd-action": "rspamd",
    "x-spamd-bar": "rspamd",
    "x-rspamd-server": "rspamd",
    "x-forefront-antispam-report": "microsoft",
    "x-ms-exchange-organization-scl": "microsoft",
    "x-microsoft-antispam": "microsoft",
    "x-ms-exchange-organization-pcl": "microsoft",
    "x-microsoft-antispam-mailbox-delivery": "microsoft",
    "x-ms-exchange-organization-authas": "microsoft",
    "x-forefront-antispam-report-untrusted": "microsoft-outbound",
    "x-microsoft-antispam-untrusted": "microsoft-outbound",
    "x-proofpoint-spam-details": "proofpoint",
}

_NUM = r"[-+]?\d+(?:\.\d+)?"
_VERDICT = re.compile(r"^\s*(yes|no)\b", re.I)
_SCORE = re.compile(rf"\b(?:score|hits)\s*=\s*({_NUM})", re.I)
_REQUIRED = re.compile(rf"\brequired\s*=\s*({_NUM})", re.I)
_TAGGED = re.compile(rf"\btagged_above\s*=\s*({_NUM})", re.I)
_AUTOLEARN = re.compile(r"\bautolearn\s*=\s*([A-Za-z_-]+)", re.I)
_VERSION = re.compile(r"\bversion\s*=\s*(\S+)", re.I)
_RULE = r"[A-Za-z0-9_]+(?:\s*=\s*" + _NUM + r")?"
_TESTS_BRACKET = re.compile(r"\btests\s*=\s*\[([^\]]*)\]?", re.I)
_TESTS_PLAIN = re.compile(rf"\btests\s*=\s*((?:{_RULE}\s*,\s*)*{_RULE})", re.I)
_RULE_ITEM = re.compile(rf"^\s*([A-Za-z0-9_]+)\s*(?:=\s*({_NUM}))?\s*$")
_REPORT_LINE = re.compile(rf"^\s*\*?\s*({_NUM})\s+([A-Z0-9_]{{2,}})\s*(.*)$")
_REPORT_CONT = re.compile(r"^\s*\*?\s{2,}(\S.*)$")
_CHECKER = re.compile(r"^\s*(\S+)\s+(\S+)(?:\s+\(([^)]*)\))?(?:\s+on\s+(\S+))?", re.I)
_RSPAMD_HEAD = re.compile(rf"^\s*(\S+?):\s*(True|False)\s*\[\s*({_NUM})\s*/\s*({_NUM})\s*\]", re.I)
_RSPAMD_SYM = re.compile(rf"([A-Z0-9_]+)\(({_NUM})\)(?:\[([^\]]*)\])?")
_BARRA_LEVEL = re.compile(rf"\b(TAG_LEVEL|QUARANTINE_LEVEL|KILL_LEVEL)\s*=\s*({_NUM})", re.I)
_BARRA_TESTS = re.compile(r"\btests\s*=\s*([A-Za-z0-9_,\s]*)", re.I)
_REPORT_POINTS = re.compile(rf"\(\s*({_NUM})\s*points?,\s*({_NUM})\s*required")
_SCANNED_AT = re.compile(r"\bat\s+([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PROOFPOINT_FIELD = re.compile(r"([A-Za-z_]+)=(\S+)")


def _f(m: re.Match[str] | None) -> float | None:
    if not m:
        return None
    try:
        return float(m.group(1))
    except ValueError:
        return None


def _float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


@dataclass
class _Group:
    family: str
    headers: list[Header]
    lnames: set[str] = field(default_factory=set)  # the field names already in the group


def stamp_headers(msg: Message) -> list[Header]:
    """The message's headers of the stamp families, top first (what group_stamp_headers keeps of all
    the headers, found by name)."""
    found = list(chain.from_iterable(map(msg.get_all, FAMILIES)))
    found.sort(key=_header_index)
    return found


def _header_index(h: Header) -> int:
    return h.index


def group_stamp_headers(headers: Iterable[Header]) -> list[_Group]:
    groups: list[_Group] = []
    open_by_family: dict[str, _Group] = {}
    for h in headers:
        lname = h.lname
        fam = FAMILIES.get(lname)
        if fam is None:
            continue
        g = open_by_family.get(fam)
        if g is None or lname in g.lnames or h.index - g.headers[-1].index > GROUP_GAP:
            g = _Group(fam, [])
            groups.append(g)
            open_by_family[fam] = g
        g.headers.append(h)
        g.lnames.add(lname)
    return groups


# --- rule lists -----------------------------------------------------------------------------------

def parse_tests(status: str) -> tuple[list[tuple[str, float | None]], list[str]]:
    """Rules of a ``tests=`` list: Amavis ``tests=[A=1, B=-0.1]`` or SpamAssassin ``tests=A,B``."""
    errors: list[str] = []
    m = _TESTS_BRACKET.search(status)
    body = m.group(1) if m else None
    if body is None:
        m2 = _TESTS_PLAIN.search(status)
        body = m2.group(1) if m2 else None
    if body is None:
        return [], errors
    out: list[tuple[str, float | None]] = []
    for item in body.split(","):
        if not item.strip():
            continue
        im = _RULE_ITEM.match(item)
        if not im:
            errors.append(f"unreadable rule {item.strip()[:40]!r}")
            continue
        name = im.group(1)
        if name.lower() == "none":
            continue
        score = _float(im.group(2)) if im.group(2) else None
        out.append((name, score))
        if len(out) >= MAX_RULES:
            errors.append(f"more than {MAX_RULES} rules; the rest were ignored")
            break
    return out, errors


def parse_report(raw: str) -> dict[str, tuple[float | None, str]]:
    """``X-Spam-Report`` / Barracuda report tables: rule -> (score, description written by the filter)."""
    out: dict[str, tuple[float | None, str]] = {}
    last: str | None = None
    for line in raw[:MAX_VALUE].replace("\r\n", "\n").split("\n")[:2000]:
        m = _REPORT_LINE.match(line)
        if m:
            name = m.group(2)
            out[name] = (_float(m.group(1)), m.group(3).strip())
            last = name
            if len(out) >= MAX_RULES:
                break
            continue
        c = _REPORT_CONT.match(line)
        if c and last is not None and not line.strip().startswith("-"):
            score, desc = out[last]
            out[last] = (score, f"{desc} {c.group(1).strip()}".strip())
        elif not line.strip():
            last = None
    return out


# --- vendors ------------------------------------------------------------------------------------

RuleExplainer = Callable[[str, float | None, str], SpamRule]


def _plain_rule(name: str, score: float | None, stamp_description: str = "") -> SpamRule:
    if stamp_description:
        return SpamRule(name=name, score=score, meaning=stamp_description, category="unknown",
                        source=MeaningSource.STAMP)
    return SpamRule(name=name, score=score, meaning="", category="unknown", source=MeaningSource.UNKNOWN)


def _spamassassin(g: _Group, explain: RuleExplainer) -> SpamStamp:
    fields: dict[str, str] = {}
    errors: list[str] = []
    is_spam = score = threshold = tagged = None
    autolearn = version = host = None
    rules: list[tuple[str, float | None]] = []
    report: dict[str, tuple[float | None, str]] = {}
    for h in g.headers:
        v = h.unfolded[:MAX_VALUE]
        name = h.lname
        if name in ("x-spam-status", "x-amavisstatus"):
            vm = _VERDICT.match(v)
            if vm:
                is_spam = vm.group(1).lower() == "yes"
            score = _f(_SCORE.search(v)) if score is None else score
            threshold = _f(_REQUIRED.search(v))
            tagged = _f(_TAGGED.search(v))
            al = _AUTOLEARN.search(v)
            autolearn = al.group(1) if al else None
            vv = _VERSION.search(v)
            version = version or (vv.group(1) if vv else None)
            rules, errs = parse_tests(v)
            errors.extend(errs)
        elif name == "x-spam-flag":
            fields["flag"] = v.strip()
            if is_spam is None and v.strip().lower() in ("yes", "no"):
                is_spam = v.strip().lower() == "yes"
        elif name == "x-spam-score":
            fields["score"] = v.strip()
            s = _float(v)
            if s is not None:
                score = s
        elif name == "x-spam-level":
            fields["level"] = str(v.strip().count("*") or v.strip().count("+"))
        elif name == "x-spam-report":
            report = parse_report(h.raw)
            m = _REPORT_POINTS.search(v)
            if m:
                score = score if score is not None else _float(m.group(1))
                threshold = threshold if threshold is not None else _float(m.group(2))
        elif name == "x-spam-checker-version":
            cm = _CHECKER.match(v)
            if cm:
                version = f"{cm.group(1)} {cm.group(2)}"
                host = cm.group(4)
            fields["checker"] = v.strip()[:200]
        elif name == "x-amavis-alert":
            fields["alert"] = v.strip()[:300]
    if not rules and report:
        rules = [(n, s) for n, (s, _d) in report.items()]
    explained = []
    for n, s in rules:
        rs, desc = report.get(n, (None, ""))
        explained.append(explain(n, s if s is not None else rs, desc))
    return SpamStamp(
        vendor=g.family, headers=tuple(h.ref for h in g.headers), header_index=g.headers[0].index,
        is_spam=is_spam, score=score, threshold=threshold, tagged_above=tagged, autolearn=autolearn,
        version=version, host=host, rules=tuple(explained), fields=fields, parse_errors=tuple(errors),
    )


def _antivirus(g: _Group) -> SpamStamp:
    h = g.headers[0]
    v = h.unfolded[:500]
    m = _SCANNED_AT.search(v)
    return SpamStamp(vendor="antivirus", headers=tuple(x.ref for x in g.headers), header_index=h.index,
                     host=m.group(1) if m else None, fields={"scanned": v.strip()})


def _barracuda(g: _Group, explain: RuleExplainer) -> SpamStamp:
    fields: dict[str, str] = {}
    is_spam = score = threshold = None
    names: list[str] = []
    report: dict[str, tuple[float | None, str]] = {}
    for h in g.headers:
        v = h.unfolded[:MAX_VALUE]
        if h.lname == "x-barracuda-spam-status":
            vm = _VERDICT.match(v)
            if vm:
                is_spam = vm.group(1).lower() == "yes"
            score = _f(_SCORE.search(v))
            for lm in _BARRA_LEVEL.finditer(v):
                fields[lm.group(1).lower()] = lm.group(2)
            t = fields.get("tag_level")
            threshold = _float(t) if t else None
            tm = _BARRA_TESTS.search(v)
            if tm:
                names = [x.strip() for x in tm.group(1).split(",") if x.strip()][:MAX_RULES]
        elif h.lname == "x-barracuda-spam-flag":
            fields["flag"] = v.strip()
            if is_spam is None or v.strip().lower() == "yes":
                is_spam = v.strip().lower() == "yes"
        elif h.lname == "x-barracuda-spam-score":
            s = _float(v)
            score = s if s is not None else score
        elif h.lname == "x-barracuda-spam-report":
            report = parse_report(h.raw)
    order = list(dict.fromkeys([*names, *report]))
    rules = [explain(n, report.get(n, (None, ""))[0], report.get(n, (None, ""))[1]) for n in order]
    return SpamStamp(vendor="barracuda", headers=tuple(h.ref for h in g.headers), header_index=g.headers[0].index,
                     is_spam=is_spam, score=score, threshold=threshold, rules=tuple(rules), fields=fields)


def _rspamd(g: _Group, explain: RuleExplainer) -> SpamStamp:
    fields: dict[str, str] = {}
    is_spam = score = threshold = None
    host = None
    rules: list[SpamRule] = []
    for h in g.headers:
        v = h.unfolded[:MAX_VALUE]
        if h.lname == "x-spamd-result":
            m = _RSPAMD_HEAD.match(v)
            if m:
                is_spam = m.group(2).lower() == "true"
                score, threshold = _float(m.group(3)), _float(m.group(4))
            for sm in list(_RSPAMD_SYM.finditer(v))[:MAX_RULES]:
                r = explain(sm.group(1), _float(sm.group(2)), "")
                rules.append(replace(r, detail=(sm.group(3) or "")[:200]))
        elif h.lname == "x-rspamd-action":
            fields["action"] = v.strip()
        elif h.lname == "x-spamd-bar":
            fields["bar"] = v.strip()
        elif h.lname == "x-rspamd-server":
            host = v.strip()[:200]
    if is_spam is None and "action" in fields:
        is_spam = fields["action"].lower() not in ("no action", "greylist")
    return SpamStamp(vendor="rspamd", headers=tuple(h.ref for h in g.headers), header_index=g.headers[0].index,
                     is_spam=is_spam, score=score, threshold=threshold, host=host, rules=tuple(rules), fields=fields)


_MS_SPAM_SFV = {"SPM", "SKS", "BLK", "SKB"}


def _microsoft(g: _Group) -> SpamStamp:
    fields: dict[str, str] = {}
    for h in g.headers:
        v = h.unfolded[:MAX_VALUE]
        if h.lname.startswith("x-forefront-antispam-report"):
            for part in v.split(";"):
                k, sep, val = part.partition(":")
                k = k.strip().upper()
                if sep and k and len(fields) < 60 and k != "SFS":
                    fields[k] = val.strip()[:200]
        elif h.lname == "x-ms-exchange-organization-scl":
            fields.setdefault("SCL", v.strip())
            fields["ORG_SCL"] = v.strip()
        elif h.lname == "x-ms-exchange-organization-pcl":
            fields["PCL"] = v.strip()
        elif h.lname == "x-ms-exchange-organization-authas":
            fields["AUTHAS"] = v.strip()[:60]
        elif h.lname == "x-microsoft-antispam-mailbox-delivery":
            for part in v.split(";"):
                k, sep, val = part.partition(":")
                if sep and k.strip().lower() in ("dest", "ucf", "jmr", "auth"):
                    fields[k.strip().upper()] = val.strip()[:20]
        elif h.lname.startswith("x-microsoft-antispam"):
            for part in v.split(";"):
                k, sep, val = part.partition(":")
                if sep and k.strip().upper() == "BCL":
                    fields["BCL"] = val.strip()
    scl = _float(fields.get("SCL", "")) if fields.get("SCL") else None
    sfv = fields.get("SFV", "").upper()
    is_spam: bool | None = None
    if sfv:
        is_spam = sfv in _MS_SPAM_SFV or (scl is not None and scl >= 5)
    elif scl is not None:
        is_spam = scl >= 5
    if fields.get("DEST", "").upper() == "J":
        is_spam = True  # delivered to the Junk Email folder
    outbound = g.family == "microsoft-outbound" or fields.get("DIR", "").upper() == "OUT"
    return SpamStamp(vendor="microsoft", headers=tuple(h.ref for h in g.headers), header_index=g.headers[0].index,
                     is_spam=is_spam, score=scl, threshold=5.0 if scl is not None else None, fields=fields,
                     outbound=outbound)


def _proofpoint(g: _Group) -> SpamStamp:
    h = g.headers[0]
    fields = {k.lower(): v for k, v in _PROOFPOINT_FIELD.findall(h.unfolded[:MAX_VALUE])[:60]}
    rule = fields.get("rule", "").lower()
    is_spam = None if not rule else ("spam" in rule and not rule.startswith("notspam"))
    score = _float(fields.get("score", "")) if fields.get("score") else None
    return SpamStamp(vendor="proofpoint", headers=(h.ref,), header_index=h.index, is_spam=is_spam, score=score,
                     fields=fields)


def parse_stamps(headers: Iterable[Header], explain: RuleExplainer | None = None,
                 explainers: dict[str, RuleExplainer] | None = None) -> list[SpamStamp]:
    """All spam/virus stamps among the headers, top first. ``explain`` gives rule meanings;
    ``explainers`` overrides it per vendor (rspamd symbols are not SpamAssassin rules). Never raises."""
    out: list[SpamStamp] = []
    for g in group_stamp_headers(headers):
        ex = (explainers or {}).get(g.family) or explain or _plain_rule
        try:
            if g.family in ("spamassassin", "amavis"):
                out.append(_spamassassin(g, ex))
            elif g.family == "antivirus":
                out.append(_antivirus(g))
            elif g.family == "barracuda":
                out.append(_barracuda(g, ex))
            elif g.family == "rspamd":
                out.append(_rspamd(g, ex))
            elif g.family.startswith("microsoft"):
                out.append(_microsoft(g))
            elif g.family == "proofpoint":
                out.append(_proofpoint(g))
        except Exception as exc:  # pragma: no cover - defensive; every branch is written not to raise
            out.append(SpamStamp(vendor=g.family, headers=tuple(h.ref for h in g.headers),
                                 header_index=g.headers[0].index, parse_errors=(f"parser error {type(exc).__name__}",)))
    return out


# --- rule knowledge -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RuleInfo:
    meaning: str
    category: str


# What a rule name means, found once per name: (meaning, category label, source, local description);
# source None when neither mailsleuth's data nor the local rules know it (the stamp's words may).
_Meaning = tuple[str, str, MeaningSource | None, str | None]
MAX_REMEMBERED_MEANINGS = 4096


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Rule meanings: mailsleuth's own data first, then local SpamAssassin ``describe`` lines, then the
    description the stamp itself carried."""

    rules: dict[str, RuleInfo]
    prefixes: tuple[tuple[str, str, str], ...]  # (prefix, category, meaning or "")
    categories: dict[str, str]  # id -> label
    local: dict[str, str]  # rule -> description from installed *.cf files
    # Meanings already looked up, by upper-case rule name (bounded: filled up to MAX_REMEMBERED_MEANINGS).
    _meanings: dict[str, _Meaning] = field(default_factory=dict, init=False, repr=False, compare=False)

    def category_label(self, cat: str) -> str:
        return self.categories.get(cat, cat)

    def _lookup(self, name: str) -> RuleInfo | None:
        info = self.rules.get(name)
        if info is not None:
            return info
        if name.startswith("T_") and name[2:] in self.rules:  # SpamAssassin's "testing" prefix
            base = self.rules[name[2:]]
            return RuleInfo(meaning=base.meaning + " (a rule still under test at SpamAssassin)",
                            category=base.category)
        return None

    def _prefix(self, name: str) -> tuple[str, str] | None:
        for prefix, cat, meaning in self.prefixes:
            if name.startswith(prefix):
                return cat, meaning
        return None

    def _meaning(self, key: str) -> _Meaning:
        local = self.local.get(key) or (self.local.get(key[2:]) if key.startswith("T_") else None)
        info = self._lookup(key)
        pref = self._prefix(key) or (self._prefix(key[2:]) if key.startswith("T_") else None)
        category = info.category if info else (pref[0] if pref else "unknown")
        label = self.category_label(category)
        if info is not None:
            return info.meaning, label, MeaningSource.MAILSLEUTH, local
        if local:  # the installed rule's own words are more specific than a family meaning
            return local, label, MeaningSource.LOCAL_RULES, local
        if pref is not None and pref[1]:
            return pref[1], label, MeaningSource.MAILSLEUTH, None
        return "", label, None, None

    def explain(self, name: str, score: float | None, stamp_description: str = "") -> SpamRule:
        key = name.upper()  # rule names are matched case-insensitively but shown as the stamp wrote them
        found = self._meanings.get(key)
        if found is None:
            found = self._meaning(key)
            if len(self._meanings) < MAX_REMEMBERED_MEANINGS:
                self._meanings[key] = found
        meaning, label, source, local = found
        if source is not None:
            return SpamRule(name=name, score=score, meaning=meaning, category=label, source=source,
                            local_description=local)
        if stamp_description:
            return SpamRule(name=name, score=score, meaning=stamp_description, category=label,
                            source=MeaningSource.STAMP)
        return SpamRule(name=name, score=score, meaning="", category=label, source=MeaningSource.UNKNOWN)


_DESCRIBE = re.compile(rb"^\s*describe\s+([A-Za-z0-9_]+)\s+(.+?)\s*$")


@cache
def load_local_descriptions(rules_dir: str | None) -> dict[str, str]:
    """``describe RULE text`` lines of the *.cf files in ``rules_dir`` (English only; cached per dir)."""
    out: dict[str, str] = {}
    if not rules_dir:
        return out
    root = Path(rules_dir)
    try:
        files = sorted(root.glob("*.cf"))[:500]
    except OSError:
        return out
    for f in files:
        try:
            data = f.read_bytes()[:5_000_000]
        except OSError:
            continue
        for line in data.splitlines():
            if not line.lstrip().startswith(b"describe"):
                continue
            m = _DESCRIBE.match(line)
            if m:
                out.setdefault(m.group(1).decode("ascii", "replace").upper(),
                               m.group(2).decode("utf-8", "replace")[:300])
    return out


@cache
def load_rule_data(vendor: str = "") -> tuple[dict[str, RuleInfo], tuple[tuple[str, str, str], ...], dict[str, str]]:
    """mailsleuth's own rule meanings: the data/spam_stamps/*_rules.toml and *_symbols.toml files whose
    ``meta.vendor`` equals ``vendor`` ("" = SpamAssassin-style rule names, used by most filters)."""
    rules: dict[str, RuleInfo] = {}
    prefixes: list[tuple[str, str, str]] = []
    categories: dict[str, str] = {}
    root = resources.files("mailsleuth") / "data" / "spam_stamps"
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if not (item.name.endswith("_rules.toml") or item.name.endswith("_symbols.toml")):
            continue
        data = tomllib.loads(item.read_text(encoding="utf-8"))
        if str(data.get("meta", {}).get("vendor", "")) != vendor:
            continue
        categories.update({k: str(v) for k, v in data.get("categories", {}).items()})
        for p in data.get("prefix", []):
            prefixes.append((str(p["prefix"]).upper(), str(p["category"]), str(p.get("meaning", ""))))
        for name, body in data.get("rules", {}).items():
            rules.setdefault(name.upper(), RuleInfo(meaning=str(body["meaning"]), category=str(body["category"])))
    prefixes.sort(key=lambda p: -len(p[0]))  # longest prefix wins
    return rules, tuple(prefixes), categories


@cache
def load_rulebook(rules_dir: str | None, vendor: str = "") -> RuleBook:
    """The rule book for SpamAssassin-style names (``vendor=""``, with the local rule descriptions) or
    for one vendor's own names (``vendor="rspamd"``; local SpamAssassin files do not apply)."""
    rules, prefixes, categories = load_rule_data(vendor)
    local = load_local_descriptions(rules_dir) if not vendor else {}
    return RuleBook(rules=rules, prefixes=prefixes, categories=categories, local=local)


@cache
def load_field_meanings() -> dict[str, dict[str, str]]:
    """Vendor field values explained (data/spam_stamps/microsoft_fields.toml): field -> value -> meaning."""
    root = resources.files("mailsleuth") / "data" / "spam_stamps"
    out: dict[str, dict[str, str]] = {}
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith("_fields.toml"):
            data = tomllib.loads(item.read_text(encoding="utf-8"))
            for fld, table in data.get("fields", {}).items():
                out.setdefault(fld.upper(), {}).update({str(k).upper(): str(v) for k, v in table.get("values", {}).items()})
    return out
