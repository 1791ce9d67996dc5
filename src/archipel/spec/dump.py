"""Write a :class:`~archipel.spec.models.Spec` back as YAML that loads to an equal spec.

Fields equal to their default are left out (a discriminator ``kind`` is always kept, since the
loader needs it to tell variants apart); dates are written as YAML dates, enums as their values,
and short lists of plain values on one line (``[1.0, 2.0]``).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel

from archipel.spec.models import Spec


class _FlowList(list[Any]):
    """A list of plain values, written on one line."""


def _represent_flow(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes :class:`_FlowList` in flow style."""

    yaml_representers: ClassVar[dict[Any, Any]] = {
        **yaml.SafeDumper.yaml_representers,
        _FlowList: _represent_flow,
    }


def _plain(value: Any) -> Any:
    """Models → dicts (defaults left out), enums → values, lists of scalars → flow lists."""
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            v = getattr(value, name)
            defaulted = not info.is_required() and v == info.get_default(call_default_factory=True)
            if defaulted and name != "kind":
                continue
            out[name] = _plain(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_plain(v) for v in value]
        if all(isinstance(v, str | int | float | bool | dt.date) for v in items):
            return _FlowList(items)
        return items
    return value


def dump_spec(spec: Spec) -> str:
    """YAML text for ``spec``; ``parse_spec(dump_spec(spec)) == spec``."""
    data = {"version": spec.version, **_plain(spec)}
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text
