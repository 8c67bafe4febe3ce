"""Converting between DNS presentation format and our record strings."""

from __future__ import annotations

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer


def rdata_to_record(rd: dns.rdata.Rdata) -> str:
    """Our record string for one rdata: TXT as its joined character-strings (unquoted),
    everything else in presentation format with absolute names lower-cased."""
    if rd.rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
        strings = rd.strings  # type: ignore[attr-defined]
        return b"".join(strings).decode("utf-8", errors="replace")
    text = rd.to_text()
    if rd.rdtype in (dns.rdatatype.NS, dns.rdatatype.CNAME, dns.rdatatype.PTR, dns.rdatatype.MX):
        text = text.lower()
    return text


def parse_rdata(rdtype: str, text: str) -> str:
    """Parse presentation-format RDATA and return our record string. Raises ValueError."""
    try:
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), text)
    except (dns.exception.DNSException, ValueError) as exc:
        raise ValueError(f"bad {rdtype} data {text!r}: {exc}") from exc
    return rdata_to_record(rd)


def record_to_presentation(rdtype: str, record: str) -> str:
    """Inverse of rdata_to_record for writing snapshots."""
    if rdtype.upper() in ("TXT", "SPF"):
        data = record.encode("utf-8")
        chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
        out = []
        for chunk in chunks:
            s = ""
            for b in chunk:
                c = chr(b)
                if c in '"\\':
                    s += "\\" + c
                elif c == ";":
                    s += "\\;"
                elif 32 <= b < 127:
                    s += c
                else:
                    s += f"\\{b:03d}"
            out.append(f'"{s}"')
        return " ".join(out)
    return record
