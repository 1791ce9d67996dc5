"""The architecture derivation rules against hand arithmetic and published model shapes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archipel.perf.architecture import (
    KNOWN_ARCHITECTURES,
    KnownArchitecture,
    architecture,
    derive_layers_hidden,
)
from archipel.spec.models import ModelSpec


def test_llama2_70b_given_shape_is_kept() -> None:
    """Given fields win: 80 layers, d 8192, 8 KV heads of 128 → 2·80·8·128·2 = 327,680 B/token."""
    spec = next(k for k in KNOWN_ARCHITECTURES if k.name == "Llama-2-70B").spec(derive=False)
    arch = architecture(spec)
    assert (arch.layers, arch.hidden_size, arch.kv_heads, arch.head_dim) == (80, 8192, 8, 128)
    assert arch.kv_bytes_per_token == 327_680
    assert arch.derived == ()


def test_derived_70b_by_hand() -> None:
    """P = 70e9: L = round((70e9 / (12·128²))^(1/3)) = round(356,038^(1/3) = 70.87) = 71,
    d = 128·71 = 9088; 8 KV heads of 128; KV = 2·71·8·128·2 = 290,816 bytes per token."""
    arch = architecture(ModelSpec(id="m", parameters_b=70))
    assert (arch.layers, arch.hidden_size, arch.kv_heads, arch.head_dim) == (71, 9088, 8, 128)
    assert arch.kv_bytes_per_token == 290_816
    assert arch.derived == ("layers", "hidden_size", "kv_heads", "head_dim")


def test_fp8_kv_cache_halves_the_bytes() -> None:
    """kv_bytes_per_value 1 (FP8 cache): 2·71·8·128·1 = 145,408 bytes per token."""
    arch = architecture(ModelSpec(id="m", parameters_b=70, kv_bytes_per_value=1))
    assert arch.kv_bytes_per_token == 145_408


def test_one_dimension_given_solves_for_the_other() -> None:
    """Layers 80 given: d = sqrt(70e9 / (12·80)) = 8539 → nearest multiple of 128 = 8576.
    Hidden 8192 given: L = round(70e9 / (12·8192²)) = round(86.9) = 87."""
    assert derive_layers_hidden(70e9, 80, None) == (80, 8576)
    assert derive_layers_hidden(70e9, None, 8192) == (87, 8192)


def test_mixture_of_experts_shapes_by_active_parameters() -> None:
    """Mixtral-8x7B (46.7B total, 12.9B active): L = round((12.9e9 / 196,608)^(1/3) = 40.3) = 40
    (published 32); by the total 46.7B it would be 61."""
    moe = ModelSpec(id="m", parameters_b=46.7, active_parameters_b=12.9)
    assert architecture(moe).layers == 40


def test_tiny_model_keeps_heads_within_width() -> None:
    """P = 1e6: L = round((1e6/196,608)^(1/3) = 1.72) = 2, d = 256 → head_dim 128, 2 KV heads."""
    arch = architecture(ModelSpec(id="m", parameters_b=0.001))
    assert (arch.layers, arch.hidden_size, arch.kv_heads, arch.head_dim) == (2, 256, 2, 128)


CONVENTIONAL = [k for k in KNOWN_ARCHITECTURES if k.kv_heads == 8 and k.head_dim == 128]


@pytest.mark.parametrize("known", CONVENTIONAL, ids=lambda k: k.name)
def test_derived_kv_cache_is_close_for_gqa8_models(known: KnownArchitecture) -> None:
    """For models with 8 KV heads of 128 the derived KV bytes per token are within 25 % of the
    published shape's (the docs' table; Qwen3-235B's 94 layers are offset by its 4 KV heads)."""
    derived = architecture(known.spec(derive=True)).kv_bytes_per_token
    published = architecture(known.spec(derive=False)).kv_bytes_per_token
    assert 0.75 <= derived / published <= 1.25


@given(st.floats(1e8, 1e14))
def test_derived_shape_reproduces_the_parameter_count(params: float) -> None:
    """12·L·d² is within the rounding of L of P: |12·L·d²/P − 1| ≤ 3.5/L (d = 128·L, L rounded)."""
    layers, hidden = derive_layers_hidden(params, None, None)
    assert hidden == 128 * layers
    assert abs(12 * layers * hidden**2 / params - 1) <= 3.5 / layers
