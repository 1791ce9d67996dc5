"""The gateway: an OpenAI-compatible front door over a plan's deployments (the data plane).

Modules, adapters around the pure routing policy (:mod:`archipel.route.policy`):

- ``config``: the endpoints and keys files, read with file:line errors.
- ``fleet``: the deployment table of one period, its endpoints and the plan's prices.
- ``health``: circuit breakers, load and provider shares (the policy's ``Health``).
- ``ramp``: traffic ramps with an SLO gate per step and automatic rollback.
- ``limits``: rate limits and budgets, in-process or in Redis (atomic Lua).
- ``upstream``: one attempt over the shared aiohttp session.
- ``app``: the raw ASGI app (routes, the request loop, stream relay).
- ``state``: loading and reloading the files; ``serve``: uvicorn, workers, JSON logs.
- ``fake``: a fake OpenAI-compatible backend for tests and benchmarks.

Errors: :mod:`archipel.gateway.errors`.
"""
