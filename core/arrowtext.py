"""Texts made by Arrow's string kernels (`pyarrow.compute`), with no Python step per value:
the buffers they take, numbers written as Python writes them, and an array's bytes at once.
Used by the sheet writer (`potentiel.xlsxsheet`, `potentiel.xlsxstream`) and the messages
the rules stage sends to durable_rules (`potentiel.rules.durable_engine`)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Arrow's buffers from the system allocator, not Arrow's default (mimalloc): what is freed
# there goes back to the operating system (`potentiel.headless._return_freed_memory`),
# where mimalloc would keep it, tens of MB more at the peak
POOL = pa.system_memory_pool()


def float_texts(values: np.ndarray, whole: np.ndarray, by_python: np.ndarray,
                python: Callable[[float], str], whole_suffix: str = "") -> pa.StringArray:
    """The text of each float of ``values`` (a numpy float array): where ``whole``, its
    integer followed by ``whole_suffix``; where ``by_python`` (none of them whole),
    ``python(value)``; elsewhere Arrow's cast, the shortest digits that give the float
    back, which is what ``repr`` writes from 0.0001 to 10¹⁰ (the caller puts any value
    outside that range, -0.0, NaN and the infinities in ``whole`` or ``by_python``).
    Both masks are numpy bool arrays of the values' length."""
    ints = pc.cast(pa.array(np.where(whole, values, 0).astype(np.int64)), pa.string(),
                   memory_pool=POOL)
    if whole_suffix:
        ints = pc.binary_join_element_wise(ints, whole_suffix, "", memory_pool=POOL)
    texts = pc.if_else(pa.array(whole, memory_pool=POOL), ints,
                       pc.cast(pa.array(np.where(whole | by_python, 0.0, values)),
                               pa.string(), memory_pool=POOL), memory_pool=POOL)
    if by_python.any():
        texts = pc.replace_with_mask(texts, pa.array(by_python, memory_pool=POOL), pa.array(
            [python(v) for v in values[by_python].tolist()], pa.string(), memory_pool=POOL),
            memory_pool=POOL)
    return texts


def concatenated(texts: pa.Array) -> bytes:
    """The UTF-8 bytes of an Arrow string (or binary) array's elements one after another,
    from its data buffer at once. Raises ValueError on a null element (its bytes are
    unspecified)."""
    if texts.null_count:
        raise ValueError("a null among the texts to concatenate")
    if not len(texts):
        return b""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64 if pa.types.is_large_string(
        texts.type) or pa.types.is_large_binary(texts.type) else np.int32)
    lo, hi = int(offsets[texts.offset]), int(offsets[texts.offset + len(texts)])
    if hi == lo:
        return b""
    return memoryview(texts.buffers()[2])[lo:hi].tobytes()
