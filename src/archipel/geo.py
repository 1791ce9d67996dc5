"""Great-circle distance and the first-order network round-trip estimate (DESIGN.md)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
FIBRE_KM_PER_MS = 200.0  # light in fibre, about 2/3 of c
ROUTE_FACTOR = 1.5  # real routes are longer than the great circle
RTT_FLOOR_MS = 1.0


def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance in km; broadcasts over arrays of degrees."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), float)


def rtt_ms(distance_km: ArrayLike) -> NDArray[np.float64]:
    """RTT ≈ 2 · d · route factor / fibre speed + floor."""
    d = np.asarray(distance_km, float)
    return np.asarray(2 * d * ROUTE_FACTOR / FIBRE_KM_PER_MS + RTT_FLOOR_MS, float)
