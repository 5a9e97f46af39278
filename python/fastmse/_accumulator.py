"""MSEAccumulator: an MSE over data that arrives in parts, mergeable across processes."""

import math

import numpy as np

from . import _core
from ._validation import as_real_array, prepare_inputs, raise_for_invalid_weights

__all__ = ["MSEAccumulator"]


class MSEAccumulator:
    """Accumulate the mean squared error over parts of a data set, in any order.

    Each `update` sums one part's squared errors (and weights) with fastmse's kernels
    in double-double precision, and adds them to partial sums kept exactly, as
    `math.fsum` does. `merge` adds another accumulator's partial sums, exactly too. So
    the result does not depend on how the data was split, nor on the order of updates
    and merges: it is the exact sum of the rounded squares, rounded once, divided by
    the exact weight total (see Notes).

    Parameters
    ----------
    axis : None or 0, default None
        None gives one MSE over all elements. 0 gives one MSE per output: parts are
        rows of data of shape (n, ...), and the result has the shape of one row.

    Attributes
    ----------
    count : int
        The number of elements seen.

    Notes
    -----
    Each term is ``(y_pred - y_true)**2`` (``w * d * d`` with weights) rounded to
    float64, the same for every split. Their sum is kept to about 106 bits within a
    part and exactly across parts, then rounded once, so two splits of the same data
    give the same bits, unless the exact sum lies within about ``n * 2**-106`` of itself
    from a rounding boundary; they then differ by one unit in the last place.
    `fastmse.mse` sums pairwise in float64 instead, within ``(23 + log2(n)) * 2**-53``
    of the exact value, so the two may differ by a few units in the last place.

    Examples
    --------
    >>> import fastmse as fm
    >>> first, second = fm.MSEAccumulator(), fm.MSEAccumulator()
    >>> _ = first.update([1.0, 2.0], [1.0, 4.0])
    >>> _ = second.update([3.0], [6.0])
    >>> first.merge(second).result()
    4.333333333333333
    >>> fm.mse([1.0, 2.0, 3.0], [1.0, 4.0, 6.0])
    4.333333333333333
    """

    def __init__(self, *, axis=None):
        if axis is not None and axis != 0:
            raise ValueError(
                f"axis must be None or 0, got {axis!r}: parts arrive as rows, so only "
                "the MSE of everything or of each output (axis=0) can be merged"
            )
        self.axis = axis
        self.reset()

    def reset(self):
        """Forget all data; return self."""
        self.count = 0
        self._outputs = None  # the shape of one row, once the first part fixed it
        self._squares = None  # per output: exact partials, then non-finite total
        self._weights = None
        self._weighted = False
        return self

    def update(self, y_true, y_pred, sample_weight=None):
        """Add one part of the data; return self.

        Parameters
        ----------
        y_true, y_pred : array_like
            As for `fastmse.mse`. With ``axis=0``, every part must have the same shape
            after its first axis.
        sample_weight : array_like, optional
            As for `fastmse.mse`: shape (n,) or the data's shape; finite, non-negative.
            Parts without weights count each element with weight 1.
        """
        if _is_empty_pair(y_true, y_pred):
            # An empty part, such as an empty chunk of a distributed array, adds nothing.
            if self.axis == 0:
                self._start(np.shape(y_true)[1:])
            return self
        t, p, w, shape = prepare_inputs(y_true, y_pred, sample_weight)
        if w is not None:
            raise_for_invalid_weights(sample_weight)
        if self.axis == 0 and not shape:
            raise ValueError(
                "with axis=0, y_true and y_pred need at least one dimension"
            )
        outputs = shape[1:] if self.axis == 0 else ()
        self._start(outputs)
        size = math.prod(shape)

        columns = math.prod(outputs)
        rows = size // columns
        t = np.broadcast_to(t, shape).reshape(rows, columns)
        p = np.broadcast_to(p, shape).reshape(rows, columns)
        if w is not None:
            self._weighted = True
            w = np.broadcast_to(w, shape).reshape(rows, columns)
        for column in range(columns):
            self._add_column(column, t, p, w)
        self.count += size
        return self

    def merge(self, other):
        """Add the data of another accumulator (not changed); return self."""
        if not isinstance(other, MSEAccumulator):
            raise TypeError(
                f"can only merge an MSEAccumulator, not {type(other).__name__}"
            )
        if other is self:
            raise ValueError(
                "cannot merge an accumulator into itself; merge a copy "
                "(copy.deepcopy) to count its data twice"
            )
        if other.axis != self.axis:
            raise ValueError(
                f"cannot merge an accumulator of axis={other.axis!r} into one of "
                f"axis={self.axis!r}"
            )
        if other._outputs is None:
            return self
        self._start(other._outputs)
        for mine, theirs in zip(self._squares, other._squares):
            _merge(mine, theirs)
        for mine, theirs in zip(self._weights, other._weights):
            _merge(mine, theirs)
        self.count += other.count
        self._weighted = self._weighted or other._weighted
        return self

    @property
    def sse(self):
        """The sum of (weighted) squared errors: a float, or an array with axis=0."""
        return self._shaped(self._totals(self._squares))

    @property
    def weight_sum(self):
        """The total weight: the element count for parts without weights."""
        return self._shaped(self._totals(self._weights))

    def result(self):
        """Return the MSE so far: a float, or an array of one row's shape with axis=0."""
        sse = self._totals(self._squares)
        weights = self._totals(self._weights)
        if 0.0 in weights:
            raise ValueError(
                "the weights seen so far sum to zero; at least one must be positive"
            )
        if math.inf in weights:
            # update accepts finite weights only, so their sum overflowed.
            raise ValueError(
                "the weights seen so far sum to more than the largest float64; "
                "divide them all by one power of two, which leaves the MSE unchanged"
            )
        return self._shaped([s / w for s, w in zip(sse, weights)])

    def __repr__(self):
        shape = "" if self.axis is None else f", axis={self.axis}"
        return f"MSEAccumulator(count={self.count}{shape})"

    def _start(self, outputs):
        if self._outputs is None:
            self._outputs = tuple(outputs)
            columns = math.prod(outputs)
            self._squares = [_ExactSum() for _ in range(columns)]
            self._weights = [_ExactSum() for _ in range(columns)]
        elif tuple(outputs) != self._outputs:
            raise ValueError(
                f"this part's rows have shape {tuple(outputs)}, but earlier parts had "
                f"{self._outputs}; with axis=0 every row must have the same shape"
            )

    def _add_column(self, column, t, p, w):
        t_column = np.ascontiguousarray(t[:, column])
        p_column = np.ascontiguousarray(p[:, column])
        w_column = None if w is None else np.ascontiguousarray(w[:, column])
        squares_hi, squares_lo, weights_hi, weights_lo = _core.exact_sums(
            t_column, p_column, w_column
        )
        self._squares[column].add(squares_hi, squares_lo)
        if w is None:
            self._weights[column].add(float(len(t_column)), 0.0)
        else:
            self._weights[column].add(weights_hi, weights_lo)

    def _totals(self, sums):
        if self._outputs is None or self.count == 0:
            raise ValueError("the accumulator has seen no data yet; call update first")
        return [_total(column) for column in sums]

    def _shaped(self, values):
        if self.axis is None:
            return values[0]
        return np.array(values, dtype=np.float64).reshape(self._outputs)


def _is_empty_pair(y_true, y_pred):
    """Return whether both inputs are empty arrays of one shape and a real dtype."""
    t = as_real_array(y_true, "y_true")
    p = as_real_array(y_pred, "y_pred")
    return t.size == 0 and t.shape == p.shape


class _ExactSum:
    """A sum of floats kept exactly as non-overlapping partials (Shewchuk's algorithm,
    the one behind math.fsum), plus a plain float total of non-finite values."""

    __slots__ = ("partials", "special")

    def __init__(self):
        self.partials = []
        self.special = 0.0

    def __getstate__(self):
        return self.partials, self.special

    def __setstate__(self, state):
        self.partials, self.special = state

    def add(self, hi, lo):
        if not math.isfinite(hi):
            # inf - inf in the two-sum makes lo NaN; hi alone carries the result.
            self.special += hi
            return
        for value in (hi, lo):
            _add_exact(self.partials, value)


def _add_exact(partials, x):
    """Add x to the non-overlapping partials, keeping their sum exact."""
    kept = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        low = y - (high - x)
        if low:
            partials[kept] = low
            kept += 1
        x = high
    partials[kept:] = [x]


def _merge(mine, theirs):
    for value in theirs.partials:
        _add_exact(mine.partials, value)
    mine.special += theirs.special


def _total(sums):
    # A non-finite total (inf or NaN) wins, as it would in a plain sum.
    if sums.special != 0.0:
        return sums.special
    return math.fsum(sums.partials)
