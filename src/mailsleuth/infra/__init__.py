"""Who runs the sending infrastructure: DNS enrichment (PTR, FCrDNS, A/AAAA, NS, SOA, MX, SPF
includes, origin AS), registration data (RDAP), sending-platform fingerprints, the ownership
narrative and abuse contacts. The checks that use these live in mailsleuth.checks.infra."""
