"""The simulator: real LLM traffic replayed through a plan's deployments with faults injected and
the routing policy in the loop (``engine``, per request), or as aggregate flows over long
horizons (``fluid``); ``traces``, ``faults``, ``service`` and ``metrics`` feed and read them."""
