"""The control plane's HTTP API: app, auth, jobs, planning, review, spend, hand-off."""
