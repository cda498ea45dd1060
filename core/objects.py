"""Object columns looked at as integers: the ids of the objects they hold.

A pandas or numpy object column is an array of pointers to Python objects. Telling its
cells apart by identity (the same object spread to many accounts), or finding its empty
cells (``None``), needs only those pointers: read from the array's buffer, they are
compared in numpy's integer loops, without a Python call, a reference count or even a
look at each object. CPython's ``id`` is that pointer; on another Python the ids are
taken one call per object.
"""

from __future__ import annotations

import ctypes
import platform

import numpy as np

_POINTERS = platform.python_implementation() == "CPython" and \
    ctypes.sizeof(ctypes.c_void_p) == 8
_NONE = id(None)


def identities(values: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """``id()`` of every object of a 1-D object array (a strided view too), as int64; with
    ``at`` (positions), of those cells only.

    Raises TypeError for an array that does not hold objects."""
    array = np.asarray(values)
    if array.dtype != object or array.ndim != 1:
        raise TypeError("identities() reads 1-D object arrays")
    n = len(array)
    if not _POINTERS or n == 0:
        if at is not None:
            array = array[at]
        return np.fromiter(map(id, array.tolist()), dtype=np.int64, count=len(array))
    step = array.strides[0]
    if step <= 0 or step % 8:  # reversed or odd views: their cells copied in order first
        array = np.ascontiguousarray(array)
        step = 8
    step //= 8
    # the pointers of the cells, read in place while ``array`` holds them, then copied
    pointers = (ctypes.c_int64 * ((n - 1) * step + 1)).from_address(array.ctypes.data)
    cells = np.frombuffer(pointers, dtype=np.int64)[::step]
    return cells.copy() if at is None else cells[at]  # picking copies too


def is_none(values: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """True where a cell of a 1-D object array is ``None`` (what ``values == None`` gives
    for cells of any type, without comparing each one); with ``at``, of those cells."""
    return identities(values, at) == _NONE


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, use_na_sentinel=True)`` of a 1-D object array: the same codes
    (-1 for NA) and distinct values (in order of first appearance, as an object array).

    A column spread from a few distinct objects (statuses, tiers, letters, profile names,
    texts cleaned once per distinct value) is factorised by identity first, then only its
    distinct objects by value; a column of mostly different objects by value at once."""
    import pandas as pd

    array = np.asarray(values, dtype=object)
    n = len(array)
    if n < 4096:
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    ids = identities(array)
    if len(set(ids[:1024].tolist())) > 256:  # mostly different objects
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    by_id, distinct_ids = pd.factorize(ids)
    first = np.empty(len(distinct_ids), dtype=np.intp)  # the first cell of each object
    first[by_id[::-1]] = np.arange(n - 1, -1, -1)
    codes, uniques = pd.factorize(array[first], use_na_sentinel=True)
    return codes[by_id], np.asarray(uniques, dtype=object)


def factorize_all(values: np.ndarray, shared_only: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a 1-D object array, each cell's value exactly itself
    (the same value and type: ``True``, ``1`` and ``1.0`` are three values, where pandas'
    factorize makes them one), and a blank (None, NaN, NA) a value too, one for all of
    them, the last. Told apart by identity first, then the distinct objects by (type,
    value). With ``shared_only``, a column holding a different object in nearly every cell
    (explanations, check sums, names) is not hashed at all: each cell is its own value
    (codes 0 … n-1, the cells themselves), which is what hashing would find, or close to
    it, at a fraction of the cost."""
    import pandas as pd

    array = np.asarray(values, dtype=object)
    n = len(array)
    if shared_only and n >= 4096 and len(set(identities(array[:1024]).tolist())) > 1000:
        return np.arange(n), array
    by_id, distinct_ids = pd.factorize(identities(array))
    first = np.empty(len(distinct_ids), dtype=np.intp)  # the first cell of each object
    first[by_id[::-1]] = np.arange(n - 1, -1, -1)
    objects = array[first]
    blank = isna(objects)
    try:
        from pandas._libs.lib import is_string_array
    except ImportError:  # a pandas without it
        is_string_array = None
    if is_string_array is not None and is_string_array(objects[~blank], skipna=False):
        # texts only (and blanks): a text's value is of its type already
        codes, uniques = pd.factorize(np.where(blank, None, objects), use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
    else:
        keys = np.empty(len(objects), dtype=object)
        keys[:] = [None if b else (type(v), v) for v, b in zip(objects.tolist(), blank.tolist())]
        codes, kept = pd.factorize(keys, use_na_sentinel=True)
        uniques = np.empty(len(kept), dtype=object)
        uniques[:] = [k[1] for k in kept.tolist()]
    if blank.any():
        uniques = np.append(uniques, np.array([None], dtype=object))
        codes = np.where(codes < 0, len(uniques) - 1, codes)
    return codes[by_id], uniques


def isna(values: np.ndarray) -> np.ndarray:
    """``pd.isna`` of a 1-D array (bool array). An object column of texts and ``None``
    (what the reading leaves in a text column) is answered from its pointers and one C
    pass over the rest, which must all be texts (a text is never NA); any other column
    goes to pandas."""
    import pandas as pd

    array = np.asarray(values)
    if array.dtype.kind == "f":
        return np.isnan(array)
    if array.dtype == object and array.ndim == 1 and len(array) > 64:
        blank = is_none(array)
        rest = array if not blank.any() else array[~blank]
        try:
            from pandas._libs.lib import is_string_array
        except ImportError:  # a pandas without it
            is_string_array = None
        if is_string_array is not None and is_string_array(rest, skipna=False):
            return blank
    return np.asarray(pd.isna(array), dtype=bool)
