"""The service-time model of the simulator: how long a replica takes with a request.

Facts from the plan: ``DeploymentTable.rate[d, c]`` is the throughput of one replica of
deployment ``d`` for request class ``c`` at full batch, in requests/s; the class definition gives
its typical token counts (``in_c``, ``out_c``).

Model (continuous batching approximated by slots):

- a replica holds ``batch`` requests at once (slots); each slot works at ``rate / batch``, so a
  replica at full batch still completes ``rate`` requests/s: the plan's throughput is kept exactly;
- a request's *work* is in replica-seconds at full batch: ``w = (1 / rate) * cost(in, out) /
  cost(in_c, out_c)`` with ``cost(i, o) = prefill_weight * i + o``: a request of the class's
  typical size takes ``1 / rate`` of replica time; larger ones proportionally more. Decode is one
  memory-bound step per output token; prefill processes the prompt in parallel, so a prompt token
  costs ``prefill_weight`` (default 0.1, see below) of a decode token;
- in a slot the request takes ``s = batch * w`` seconds (it shares the replica with ``batch - 1``
  others), split into prefill ``w * prefill_weight * in / cost`` — not stretched by the batch:
  a server runs a request's prefill in one iteration (Splitwise's llama2-70b measurements on
  H100 give a prompt token 0.09 of a decode iteration at batch 32, 0.11 at batch 64, the
  ``prefill_weight`` default) — and decode (the rest of ``s``);
- slots are FIFO servers: a request sent at ``t`` starts at ``max(t, earliest free slot)``;
- time to first token = (time since the request arrived, earlier attempts included) + network RTT
  (``table.rtt_ms[g, d]``) + queueing + prefill (+ any injected latency spike);
  end-to-end = time to first token + decode.

With ``batch = 1`` a replica is a single FIFO server and each request gets ``1/rate`` seconds of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archipel.route.types import DeploymentTable, FloatArray


@dataclass(frozen=True)
class ServiceModel:
    batch: int = 1
    prefill_weight: float = 0.1

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("batch must be at least 1")
        if not self.prefill_weight >= 0.0:
            raise ValueError("prefill_weight must be non-negative")

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        return self.prefill_weight * input_tokens + output_tokens

    def slot_seconds(self, table: DeploymentTable) -> FloatArray:
        """[D, C] seconds in a slot for a request of the class's typical size (inf at rate 0)."""
        with np.errstate(divide="ignore"):
            return np.where(table.rate > 0, self.batch / table.rate, np.inf)

    def times(
        self, slot_s: float, typical_cost: float, input_tokens: float, output_tokens: float
    ) -> tuple[float, float]:
        """(prefill, decode) seconds in a slot for one request."""
        c = self.cost(input_tokens, output_tokens)
        scale = c / typical_cost if typical_cost > 0 else 1.0
        s = slot_s * scale
        share = self.prefill_weight * input_tokens / c if c > 0 else 0.0
        prefill = s * share / self.batch  # one iteration's worth, not the slot's stretched share
        return prefill, s - prefill
