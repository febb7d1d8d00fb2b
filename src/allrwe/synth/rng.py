"""Random streams keyed by person block, so that chunking never changes a draw.

Persons ``1..N`` fall into fixed blocks of :data:`RNG_BLOCK` consecutive ids. Each block owns
one generator per *domain* (background care, ALL selection, clinical course), seeded from
``SeedSequence(seed, spawn_key=(domain, block))``. Every draw method draws, block by block, the
numbers of the units (persons, patients or records) of that block, so a block's numbers depend
only on the seed, the block and the sequence of calls made for it: the same whatever chunk the
block is processed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DOMAIN_BACKGROUND",
    "DOMAIN_CLINICAL",
    "DOMAIN_FINDINGS",
    "DOMAIN_SELECT",
    "RNG_BLOCK",
    "Draws",
]

#: persons per random-stream block; part of what a seed means, so never change it
RNG_BLOCK = 1024
DOMAIN_SELECT = 0
DOMAIN_BACKGROUND = 1
DOMAIN_CLINICAL = 2
#: findings added after the clinical course was calibrated (chemotherapy intolerance): their own
#: stream, so drawing them moves no draw of the clinical course
DOMAIN_FINDINGS = 3

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _generator(seed: int, domain: int, block: int) -> np.random.Generator:
    seq = np.random.SeedSequence(seed, spawn_key=(domain, block))
    return np.random.Generator(np.random.Philox(seq))


class Draws:
    """Vectorised draws for units grouped by block.

    Parameters
    ----------
    seed : int
        The run's seed.
    domain : int
        Which family of streams (one of the ``DOMAIN_*`` constants).
    unit_block : numpy.ndarray
        Block number of each unit, non-decreasing.
    """

    def __init__(self, seed: int, domain: int, unit_block: IntArray) -> None:
        if unit_block.size and np.any(np.diff(unit_block) < 0):
            raise ValueError("units must be sorted by block")
        self.blocks, self.counts = np.unique(unit_block, return_counts=True)
        self.unit_block = unit_block
        self._first_unit = np.cumsum(self.counts) - self.counts
        self.n = int(unit_block.size)
        self._gens = [_generator(seed, domain, int(b)) for b in self.blocks]

    def _sizes(self, owner: IntArray | None, ordered: bool) -> IntArray:
        if owner is None:
            return self.counts.astype(np.int64)
        if ordered:
            # items sorted by owner: each block's items start where its first unit's do
            bounds = np.searchsorted(owner, self._first_unit)
            return np.diff(np.append(bounds, owner.size)).astype(np.int64)
        return np.bincount(
            np.searchsorted(self.blocks, self.unit_block[owner]), minlength=len(self.blocks)
        ).astype(np.int64)

    def _apply(
        self,
        fn: Callable[[np.random.Generator, int, slice], npt.NDArray[np.generic]],
        owner: IntArray | None,
        dtype: type,
    ) -> npt.NDArray[np.generic]:
        order = None
        if owner is not None and owner.size > 1 and np.any(owner[1:] < owner[:-1]):
            order = np.argsort(owner, kind="stable")
        sizes = self._sizes(owner, ordered=order is None)
        out: npt.NDArray[Any] = np.empty(int(sizes.sum()), dtype=dtype)
        pos = 0
        for gen, size in zip(self._gens, sizes, strict=True):
            if size:
                sl = slice(pos, pos + int(size))
                out[sl] = fn(gen, int(size), sl)
                pos += int(size)
        if order is not None:
            unsorted = np.empty_like(out)
            unsorted[order] = out
            return unsorted
        return out

    def uniform(
        self,
        low: float | FloatArray = 0.0,
        high: float | FloatArray = 1.0,
        owner: IntArray | None = None,
    ) -> FloatArray:
        """Draw uniform numbers in [low, high), one per unit (or per item of ``owner``)."""
        u = self._apply(lambda g, k, sl: g.random(k), owner, np.float64).astype(np.float64)
        return np.asarray(low + u * (np.asarray(high) - np.asarray(low)), dtype=np.float64)

    def normal(self, owner: IntArray | None = None) -> FloatArray:
        """Draw standard normal numbers."""
        return self._apply(lambda g, k, sl: g.standard_normal(k), owner, np.float64).astype(
            np.float64
        )

    def bernoulli(
        self, p: float | FloatArray, owner: IntArray | None = None
    ) -> npt.NDArray[np.bool_]:
        """Draw booleans, true with probability ``p``."""
        return self.uniform(owner=owner) < p

    def integers(
        self, low: int | IntArray, high: int | IntArray, owner: IntArray | None = None
    ) -> IntArray:
        """Integers uniform on [low, high] (both inclusive)."""
        u = self.uniform(owner=owner)
        lo = np.asarray(low, dtype=np.int64)
        span = np.asarray(high, dtype=np.int64) - lo + 1
        return (lo + np.minimum(np.floor(u * span), span - 1)).astype(np.int64)

    def choice(self, p: npt.ArrayLike, owner: IntArray | None = None) -> IntArray:
        """Category index drawn from the probabilities ``p`` (shared by all units)."""
        cum = np.cumsum(np.asarray(p, dtype=np.float64))
        cum /= cum[-1]
        idx = np.searchsorted(cum, self.uniform(owner=owner), side="right")
        return np.minimum(idx, len(cum) - 1).astype(np.int64)

    def exponential(self, scale: float | FloatArray, owner: IntArray | None = None) -> FloatArray:
        """Exponential numbers with the given mean."""
        return -np.log1p(-self.uniform(owner=owner)) * np.asarray(scale, dtype=np.float64)

    def poisson(self, lam: FloatArray, owner: IntArray | None = None) -> IntArray:
        """Poisson counts with per-unit (or per-item) means ``lam``."""
        lam = np.asarray(lam, dtype=np.float64)
        if owner is not None and owner.size > 1 and np.any(owner[1:] < owner[:-1]):
            raise ValueError("poisson needs items sorted by owner")
        return self._apply(lambda g, k, sl: g.poisson(lam[sl]), owner, np.int64).astype(np.int64)

    def gamma(self, shape: float, scale: FloatArray, owner: IntArray | None = None) -> FloatArray:
        """Gamma numbers with a shared shape and per-unit scale."""
        scale = np.asarray(scale, dtype=np.float64)
        g = self._apply(lambda gen, k, sl: gen.standard_gamma(shape, k), owner, np.float64)
        return g.astype(np.float64) * scale
