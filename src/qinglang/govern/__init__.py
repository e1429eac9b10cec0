"""The regulators' domain core: cases, dispositions, identifiers (pure, no I/O).

Storage, API and CLI layers call these functions with plain values and persist what they
return; nothing here touches a database, the network or the clock (callers pass `at`).
"""
