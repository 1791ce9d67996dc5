"""The control plane's store: plans, reviews, approvals, applies, spend and the audit chain.

``sql`` opens a database (SQLite by default, PostgreSQL by URL) and migrates it; ``schema``
holds the tables; ``audit`` the hash chain; ``repo`` every read and write, each write in one
transaction together with its audit row.
"""
