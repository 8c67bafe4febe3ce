"""Re-verification of e-mail authentication: DKIM, SPF, DMARC and ARC, each step explained."""
