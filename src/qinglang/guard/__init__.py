"""Minors' time and spending rules for platforms (pure core: no I/O, no framework imports).

identity (ID numbers, NPPA pi), ages and age bands, the holiday calendar, rule sets as versioned
data, decisions for play time and payments, guardian limits (only ever stricter), youth mode,
sessions and the NPPA interface. See docs/guard.md.
"""
