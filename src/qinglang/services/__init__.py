"""Services: the governance commands and queries, between the web/CLI edges and the pure core.

Each command takes a `Database` session opened with `db.write()` (one transaction), the acting
`Principal` and plain values; it checks scope, calls the pure core (`qinglang.govern`), stores
the result and appends the audit events in the same transaction. Errors are `ServiceError`s
with a stable code, an English message for logs and a Chinese one for people.
"""
