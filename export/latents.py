"""Latents and images as numpy arrays (numpy only), shared by the ONNX
runtime and the projection. Both import this; the projection never imports
the runtime, which imports the projection only inside `OnnxGenerator.project`,
so the two form no import circle. `export.runtime` re-exports these names:
import them from there."""

from __future__ import annotations

import numpy as np

MIN_TRUNCATION = 0.1


class GeneratorError(ValueError):
    """A bad model file or request; the message says which and why."""


def sample_latents(n: int, latent_dim: int, seed: int,
                   truncation: float | None = None) -> np.ndarray:
    """z ~ N(0, I) of shape (n, latent_dim), float32, from `default_rng(seed)`.

    With `truncation` t, entries with |z| > t are redrawn until none is (the
    truncation trick of Brock et al. 2019): less variety, cleaner samples.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, latent_dim), dtype=np.float32)
    if truncation is not None:
        if (isinstance(truncation, bool)
                or not isinstance(truncation, (int, float, np.integer, np.floating))
                or not truncation >= MIN_TRUNCATION):  # also refuses NaN
            raise GeneratorError(f"truncation must be >= {MIN_TRUNCATION} (or None), "
                                 f"got {_brief(truncation)}")
        while (mask := np.abs(z) > truncation).any():
            z[mask] = rng.standard_normal(int(mask.sum()), dtype=np.float32)
    return z


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between latents a and b (D,) at times t (S,) -> (S, D).

    Gaussian latents concentrate near a sphere; lerp's midpoints fall inside
    it (atypical norms), slerp's stay on it (White 2016).
    """
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    t = np.asarray(t, np.float64)[:, None]
    norms = np.linalg.norm(a64) * np.linalg.norm(b64)
    omega = np.arccos(np.clip(np.dot(a64, b64) / norms, -1.0, 1.0)) if norms else 0.0
    if np.sin(omega) < 1e-6:  # zero or (anti)parallel: no unique great circle
        return ((1 - t) * a64 + t * b64).astype(np.float32)
    out = (np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)
    return out.astype(np.float32)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats -> uint8 [0, 255]."""
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _brief(value, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters: messages echo what was sent,
    which may be a megabyte of text."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
