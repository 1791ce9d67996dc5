"""The control plane's store: plans, reviews, approvals, applies, spend and the audit chain.

``sql`` opens a database (SQLite by default, PostgreSQL by URL) and migrates it; ``schema``
holds the tables; ``audit`` the hash chain; ``repo`` every read and write, each write in one
transaction together with its audit row.

Error codes of the control plane (all :class:`archipel.errors.UserError`, exit 2 in the CLI):
``ARC-STORE`` a database URL that cannot be opened or migrated (``sql.StoreError``);
``ARC-NOTFOUND`` a plan, job, apply or file the store does not hold (``repo.NotFound``, HTTP
404); ``ARC-CONFLICT`` the stored state does not allow the request: a stale approval, a lost
apply race, a duplicate (``repo.Conflict``, HTTP 409).
"""
