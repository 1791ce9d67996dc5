"""The control plane\x27s HTTP API: app, auth, jobs, planning, review, spend, hand-off."""
