"""A model's shape (layers, width, key/value heads): given in the spec, or derived from its size.

The serving estimates need the number of layers L (per-layer overheads), the hidden size d
(attention FLOPs, activations, tensor-parallel traffic) and the key/value cache per token
(``2 · L · kv_heads · head_dim · kv_bytes_per_value`` bytes: a key and a value vector per layer and
KV head). Each field a :class:`~archipel.spec.models.ModelSpec` leaves out is derived by these
rules (docs/estimates.md, "Architecture"), checked against the published shapes in
:data:`KNOWN_ARCHITECTURES`:

- P, the parameters that shape the layers, is ``active_parameters_b`` for a mixture of experts
  (attention is as wide as a dense model of the active size; the experts multiply only the MLP),
  else ``parameters_b``; times 10^9.
- A dense transformer layer holds about 12·d² parameters (4·d² attention, 8·d² MLP), so
  P ≈ 12·L·d². Published models keep d/L near 128 (Llama-3-8B 4096/32, Llama-3.1-405B 16384/126,
  GPT-3 12288/96), so with neither given L = round((P / (12 · 128²))^(1/3)) and d = 128·L; with
  one given the other solves P = 12·L·d² (d rounded to a multiple of 128).
- head_dim 128 (every model in the table but Falcon-180B), and 8 KV heads (grouped-query
  attention as in Llama-2/3-70B, Llama-3.1-405B, Mixtral, Qwen2.5-72B), never more than
  d / head_dim.
"""

from __future__ import annotations

from dataclasses import dataclass

from archipel.spec.models import ModelSpec

PARAMS_PER_LAYER_PER_D2 = 12  # P ≈ 12 · L · d² for a dense transformer
HIDDEN_PER_LAYER = 128  # d / L of published models
DEFAULT_HEAD_DIM = 128
DEFAULT_KV_HEADS = 8
HIDDEN_MULTIPLE = 128


@dataclass(frozen=True, slots=True)
class Architecture:
    """The shape the serving estimates use; ``derived`` names the fields not given in the spec."""

    layers: int
    hidden_size: int
    kv_heads: int
    head_dim: int
    kv_bytes_per_value: float
    derived: tuple[str, ...] = ()

    @property
    def kv_bytes_per_token(self) -> float:
        """Key/value cache per token: 2 · layers · kv_heads · head_dim · kv_bytes_per_value."""
        return 2.0 * self.layers * self.kv_heads * self.head_dim * self.kv_bytes_per_value


def shaping_parameters(model: ModelSpec) -> float:
    """Parameters that shape the layers: active parameters for a mixture of experts, × 10^9."""
    b = model.active_parameters_b if model.active_parameters_b is not None else model.parameters_b
    return b * 1e9


def derive_layers_hidden(params: float, layers: int | None, hidden: int | None) -> tuple[int, int]:
    """(layers, hidden_size) from P ≈ 12·L·d², d/L = 128 when neither is given (module doc)."""
    if layers is not None and hidden is not None:
        return layers, hidden
    if layers is not None:
        d = (params / (PARAMS_PER_LAYER_PER_D2 * layers)) ** 0.5
        return layers, max(HIDDEN_MULTIPLE, HIDDEN_MULTIPLE * round(d / HIDDEN_MULTIPLE))
    if hidden is not None:
        return max(1, round(params / (PARAMS_PER_LAYER_PER_D2 * hidden**2))), hidden
    per_l3 = PARAMS_PER_LAYER_PER_D2 * HIDDEN_PER_LAYER**2
    n_layers = max(1, round((params / per_l3) ** (1.0 / 3.0)))
    return n_layers, HIDDEN_PER_LAYER * n_layers


def architecture(model: ModelSpec) -> Architecture:
    """The model's shape: the spec's fields where given, the rules of the module doc elsewhere."""
    derived = tuple(
        name
        for name in ("layers", "hidden_size", "kv_heads", "head_dim")
        if getattr(model, name) is None
    )
    layers, hidden = derive_layers_hidden(
        shaping_parameters(model), model.layers, model.hidden_size
    )
    head_dim = model.head_dim if model.head_dim is not None else min(DEFAULT_HEAD_DIM, hidden)
    kv_heads = (
        model.kv_heads
        if model.kv_heads is not None
        else max(1, min(DEFAULT_KV_HEADS, hidden // head_dim))
    )
    return Architecture(layers, hidden, kv_heads, head_dim, model.kv_bytes_per_value, derived)


@dataclass(frozen=True, slots=True)
class KnownArchitecture:
    """A published model's shape (from its ``config.json``), to check the derivation rules."""

    name: str
    parameters_b: float
    active_parameters_b: float | None
    layers: int
    hidden_size: int
    kv_heads: int
    head_dim: int
    note: str = ""

    def spec(self, derive: bool) -> ModelSpec:
        """A ModelSpec of this model, with its shape given (``derive=False``) or left out."""
        shape = (
            {}
            if derive
            else {
                "layers": self.layers,
                "hidden_size": self.hidden_size,
                "kv_heads": self.kv_heads,
                "head_dim": self.head_dim,
            }
        )
        return ModelSpec(
            id=self.name,
            parameters_b=self.parameters_b,
            active_parameters_b=self.active_parameters_b,
            **shape,
        )


# Shapes from each model's Hugging Face config.json (num_hidden_layers, hidden_size,
# num_key_value_heads, head_dim) and parameter counts from its model card.
KNOWN_ARCHITECTURES: tuple[KnownArchitecture, ...] = (
    KnownArchitecture("Llama-3.1-8B", 8.03, None, 32, 4096, 8, 128),
    KnownArchitecture("Llama-2-70B", 68.98, None, 80, 8192, 8, 128),
    KnownArchitecture("Qwen2.5-72B", 72.7, None, 80, 8192, 8, 128),
    KnownArchitecture("Mistral-Large-2", 123.0, None, 88, 12288, 8, 128),
    KnownArchitecture("BLOOM-176B", 176.2, None, 70, 14336, 112, 128, "multi-head attention"),
    KnownArchitecture("Falcon-180B", 180.0, None, 80, 14848, 8, 64),
    KnownArchitecture("Llama-3.1-405B", 405.9, None, 126, 16384, 8, 128),
    KnownArchitecture("Mixtral-8x7B", 46.7, 12.9, 32, 4096, 8, 128, "mixture of experts"),
    KnownArchitecture("Mixtral-8x22B", 141.0, 39.0, 56, 6144, 8, 128, "mixture of experts"),
    KnownArchitecture("Llama-4-Maverick", 400.0, 17.0, 48, 5120, 8, 128, "mixture of experts"),
    KnownArchitecture("Qwen3-235B-A22B", 235.0, 22.0, 94, 4096, 4, 128, "mixture of experts"),
    KnownArchitecture(
        "DeepSeek-V3",
        671.0,
        37.0,
        61,
        7168,
        1,
        288,
        "MLA: 576 cached values per token and layer, written as 1 KV head of 288",
    ),
)
