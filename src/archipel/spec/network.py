"""What a spec says about the network: bytes per request, negotiated transfer rates.

Bytes a request class moves (docs/semantics.md, "Network cost") when the spec does not give
``request_bytes`` / ``response_bytes``:

- request, client to service: ``REQUEST_OVERHEAD_BYTES + TEXT_BYTES_PER_TOKEN × input_tokens``;
- response, service to client, **streamed** as server-sent events with one JSON chunk per
  generated token, the way OpenAI-compatible servers stream (OpenAI, vLLM, SGLang):
  ``RESPONSE_OVERHEAD_BYTES + SSE_BYTES_PER_OUTPUT_TOKEN × output_tokens``.

Where the figures come from:

- ``TEXT_BYTES_PER_TOKEN = 4``: "one token generally corresponds to ~4 characters of text for
  common English text" (OpenAI Help Center, "What are tokens and how to count them?",
  https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them); an
  English character is one byte in UTF-8 (a CJK character takes 3 bytes but is about one
  token, so a token stays at 3–4 bytes).
- ``SSE_BYTES_PER_OUTPUT_TOKEN = 250``: one streamed chunk as vLLM's OpenAI-compatible server
  prints it (reproduced in a vLLM bug report, 2025), carrying the 4-character token " the"::

    data: {"id":"chatcmpl-c4eefdc442064e16be757120a2ec7703","object":"chat.completion.chunk",
    "created":1749904375,"model":"meta-llama/llama-4-scout-17b-16e-instruct","choices":[{"index"
    :0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}

  is 252 bytes with its blank line (one line on the wire); OpenAI's own chunks, which add
  ``service_tier``, ``system_fingerprint`` and ``obfuscation`` fields, are about 280. The text
  itself is 1–2 % of what a streamed answer moves. A non-streamed answer is one JSON document
  (about ``1,000 + 4 × output_tokens`` bytes): give ``response_bytes`` for such a class.
- ``REQUEST_OVERHEAD_BYTES = RESPONSE_OVERHEAD_BYTES = 1,000``: HTTP headers (authorisation,
  content type, user agent: a few hundred bytes) and the JSON envelope (model, role, sampling
  parameters); on the response, the first (role) chunk, the last (finish reason and usage)
  chunk and ``data: [DONE]``.

Transport framing (TLS records, TCP/IP headers, about 10–30 % more for chunks sent one by one)
is not counted: the figures are what the application sends.

Negotiated rates: ``providers[].egress`` (:class:`EgressRates`) replaces a provider's list rates
(:mod:`archipel.catalog.egress`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from archipel.spec.types import Frozen

TEXT_BYTES_PER_TOKEN = 4
SSE_BYTES_PER_OUTPUT_TOKEN = 250
REQUEST_OVERHEAD_BYTES = 1_000
RESPONSE_OVERHEAD_BYTES = 1_000
MAX_BYTES_PER_REQUEST = 10**12  # a terabyte per request is a typo, never a prompt

WireBytes = Annotated[int, Field(ge=0, le=MAX_BYTES_PER_REQUEST)]
# USD per GB (2^30 bytes); the dearest list rate is about 0.25, a hundred is a typo
UsdPerGb = Annotated[float, Field(ge=0.0, le=100.0)]


def default_request_bytes(input_tokens: int) -> int:
    """Bytes of a request with ``input_tokens`` of prompt: headers, envelope and text."""
    return REQUEST_OVERHEAD_BYTES + TEXT_BYTES_PER_TOKEN * input_tokens


def default_response_bytes(output_tokens: int) -> int:
    """Bytes of a streamed response of ``output_tokens``: one server-sent event per token."""
    return RESPONSE_OVERHEAD_BYTES + SSE_BYTES_PER_OUTPUT_TOKEN * output_tokens


class EgressRates(Frozen):
    """A provider's data-transfer rates in USD per GB (2^30 bytes), replacing its list rates
    (``archipel.catalog.egress``) in every region; a rate left out keeps the list rate. For a
    provider of your own the list rates are 0: give what your transit costs here."""

    internet_usd_per_gb: UsdPerGb | None = Field(
        None,
        description="Out of any of its regions to the internet, which is also the way to "
        "another provider's region.",
    )
    inter_region_usd_per_gb: UsdPerGb | None = Field(
        None, description="From one of its regions to another on the same continent."
    )
    inter_continent_usd_per_gb: UsdPerGb | None = Field(
        None, description="From one of its regions to another on a different continent."
    )
