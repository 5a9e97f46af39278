// Chunking, threading and strided access around the per-target kernels.
//
// Every array is cut into chunks of kChunk elements counted from the start of each slice, in
// C order. Each chunk is summed in the same tree, on contiguous memory or on a copy gathered
// from strided memory, and chunk sums combine in a pairwise tree in chunk order. Threads only
// decide who computes which chunk, or for contiguous arrays which leaves of a chunk, so the
// result is the same for every thread count, and a strided array gives the same bits as its
// contiguous copy.
#include "driver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "dispatch.hpp"
#include "threads.hpp"

namespace fastmse {
namespace {

template <class T>
const KernelSet<T>& kernels();

template <>
const KernelSet<float>& kernels<float>() {
    return active_kernels().f32;
}

template <>
const KernelSet<double>& kernels<double>() {
    return active_kernels().f64;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Which of two NaNs an addition returns depends on the order of its operands, which the
// compiler may choose differently in each kernel. So every NaN sum leaves as the same quiet
// NaN, and NaN results, too, have the same bits on every path.
double canonical(double x) { return std::isnan(x) ? std::numeric_limits<double>::quiet_NaN() : x; }

Sums canonical(const Sums& sums) {
    return {canonical(sums.squares), canonical(sums.weights), canonical(sums.min_weight)};
}

// Chunks or rows per reduce_pieces call where their sums go to a buffer on the stack.
constexpr int64_t kBatch = 64;

// Outputs of at least this size are written with non-temporal stores: they would not fit in
// the caches anyway, and skipping the cache saves reading each line before writing it.
constexpr int64_t kStreamMinBytes = int64_t{16} << 20;

// Whether a reduction over `bytes` bytes of contiguous input on `threads` threads requests
// prefetching from the kernels (see PrefetchWindow).
bool wants_prefetch(int64_t bytes, int threads) {
    const PrefetchWindow window = prefetch_window();
    // Small inputs, the common case, leave before the division.
    if (bytes <= window.min_bytes_per_thread || bytes > window.max_bytes) return false;
    const int64_t per_thread = bytes / threads;
    return per_thread > window.min_bytes_per_thread &&
           per_thread <= window.max_bytes_per_thread;
}

// Returns the pairwise sum of chunk(0), ..., chunk(n - 1), computed on up to `threads` threads.
template <class Chunk>
Sums sum_chunks(int64_t n, int threads, Chunk chunk) {
    PairwiseSum<Sums> total;
    if (n == 1 || threads <= 1) {
        for (int64_t i = 0; i < n; ++i) total.add(chunk(i));
        return total.total();
    }

    std::vector<Sums> partial(n);
    parallel_for(n, threads, [&](int64_t i) { partial[i] = chunk(i); });
    for (const Sums& sums : partial) total.add(sums);
    return total.total();
}

// Per-thread buffers that hold one gathered chunk of each operand.
template <class T>
T* scratch(int operand) {
    thread_local std::vector<T> buffers[Problem::count];
    std::vector<T>& buffer = buffers[operand];
    if (buffer.size() < static_cast<size_t>(kChunk)) buffer.resize(kChunk);
    return buffer.data();
}

// Slices gathered together when they are columns: enough adjacent slices that one row of
// the block fills a 64-byte cache line.
template <class T>
constexpr int64_t kBlockSlices = 64 / sizeof(T);

// Per-thread buffers that hold one gathered chunk of a block of slices, for each operand.
template <class T>
T* block_scratch(int operand) {
    thread_local std::vector<T> buffers[Problem::count];
    std::vector<T>& buffer = buffers[operand];
    const auto size = static_cast<size_t>(kBlockSlices<T> * kChunk);
    if (buffer.size() < size) buffer.resize(size);
    return buffer.data();
}

// Calls visit(index, run, done) for the runs along the last axis that cover `count` elements
// from flat position `begin` of `shape` in C order. `index` is the run's first multi-index
// and `done` the number of elements before it.
template <class Visit>
void for_each_run(const std::vector<int64_t>& shape, int64_t begin, int64_t count, Visit visit) {
    const int ndim = static_cast<int>(shape.size());
    std::vector<int64_t> index(ndim);
    if (ndim == 0) {
        visit(index, 1, 0);
        return;
    }

    for (int d = ndim - 1; d >= 0; --d) {
        index[d] = begin % shape[d];
        begin /= shape[d];
    }

    for (int64_t done = 0; done < count;) {
        const int64_t run = std::min(shape[ndim - 1] - index[ndim - 1], count - done);
        visit(index, run, done);
        done += run;
        index[ndim - 1] += run;
        for (int d = ndim - 1; d > 0 && index[d] == shape[d]; --d) {
            index[d] = 0;
            ++index[d - 1];
        }
    }
}

// One call's operands, split into the kept (outer) and reduced (inner) axes.
template <class T>
class Operands {
  public:
    explicit Operands(const Problem& problem) : problem_(problem) {
        const auto split = problem.shape.begin() + problem.outer_dims;
        outer_shape_.assign(problem.shape.begin(), split);
        inner_shape_.assign(split, problem.shape.end());
        slice_size_ = 1;
        for (int64_t extent : inner_shape_) slice_size_ *= extent;
        for (int op = 0; op < Problem::count; ++op) {
            present_[op] = problem.data[op] != nullptr;
            contiguous_[op] = !present_[op] || is_inner_contiguous(problem.strides[op]);
        }
    }

    int64_t slice_count() const {
        int64_t count = 1;
        for (int64_t extent : outer_shape_) count *= extent;
        return count;
    }
    int64_t slice_size() const { return slice_size_; }
    bool has(int op) const { return present_[op]; }
    bool is_contiguous(int op) const { return present_[op] && contiguous_[op]; }

    // Calls kernel(y_true, y_pred, weights, out, n) on elements [begin, begin + n) of slice
    // `slice`, gathering the strided operands into scratch buffers and scattering `out` back.
    template <class Kernel>
    Sums run(int64_t slice, int64_t begin, int64_t n, Kernel kernel) const {
        std::array<T*, Problem::count> pointers = {};
        for (int op = 0; op < Problem::count; ++op) {
            if (!present_[op]) continue;
            char* base = slice_base(op, slice);
            if (contiguous_[op]) {
                pointers[op] = reinterpret_cast<T*>(base) + begin;
            } else {
                pointers[op] = scratch<T>(op);
                if (op != Problem::out) copy(op, base, begin, n, pointers[op], true);
            }
        }

        Sums sums = kernel(pointers[Problem::y_true], pointers[Problem::y_pred],
                           pointers[Problem::weights], pointers[Problem::out], n);

        if (present_[Problem::out] && !contiguous_[Problem::out]) {
            copy(Problem::out, slice_base(Problem::out, slice), begin, n, pointers[Problem::out],
                 false);
        }
        return sums;
    }

    // Whether slices are better gathered in blocks: some operand is strided within a slice,
    // and neighbouring slices along the last kept axis lie side by side.
    bool gathers_in_blocks() const {
        if (outer_shape_.empty() || outer_shape_.back() == 1) return false;
        for (int op = 0; op < Problem::count; ++op) {
            if (present_[op] && !contiguous_[op]) return true;
        }
        return false;
    }
    int64_t last_outer_extent() const { return outer_shape_.back(); }

    // Calls kernel(y_true, y_pred, weights, nullptr, n) on elements [begin, begin + n) of
    // the `count` slices that follow `first` along the last kept axis, and stores their
    // sums in sums[0 .. count). One pass over the rows gathers every slice of the block,
    // so each cache line is read once. Each slice gets the same values in the same order
    // as run() would give it, so the sums are the same bits. No `out` operand.
    template <class Kernel>
    void run_block(int64_t first, int64_t count, int64_t begin, int64_t n, Kernel kernel,
                   Sums* sums) const {
        std::array<char*, Problem::count> bases = {};
        std::array<T*, Problem::count> buffers = {};
        for (int op = 0; op < Problem::count; ++op) {
            if (!present_[op]) continue;
            bases[op] = slice_base(op, first);
            if (!contiguous_[op]) {
                buffers[op] = block_scratch<T>(op);
                gather_block(op, bases[op], count, begin, n, buffers[op]);
            }
        }

        for (int64_t j = 0; j < count; ++j) {
            std::array<const T*, Problem::count> pointers = {};
            for (int op = 0; op < Problem::count; ++op) {
                if (!present_[op]) continue;
                if (contiguous_[op]) {
                    const int64_t step = problem_.strides[op][problem_.outer_dims - 1];
                    pointers[op] = reinterpret_cast<const T*>(bases[op] + j * step) + begin;
                } else {
                    pointers[op] = buffers[op] + j * n;
                }
            }
            sums[j] = kernel(pointers[Problem::y_true], pointers[Problem::y_pred],
                             pointers[Problem::weights], nullptr, n);
        }
    }

  private:
    // Copies elements [begin, begin + n) of `count` neighbouring slices into buffer, slice
    // j at buffer[j * n]. The loop over slices is innermost, so it reads along a row.
    void gather_block(int op, char* base, int64_t count, int64_t begin, int64_t n,
                      T* buffer) const {
        const int64_t* strides = problem_.strides[op].data() + problem_.outer_dims;
        const int64_t across = problem_.strides[op][problem_.outer_dims - 1];
        const int inner_dims = static_cast<int>(inner_shape_.size());
        const int64_t step = inner_dims > 0 ? strides[inner_dims - 1] : 0;
        for_each_run(inner_shape_, begin, n,
                     [&](const std::vector<int64_t>& index, int64_t run, int64_t done) {
                         const char* row = base;
                         for (int d = 0; d < inner_dims; ++d) row += index[d] * strides[d];
                         for (int64_t i = 0; i < run; ++i, row += step) {
                             const char* p = row;
                             for (int64_t j = 0; j < count; ++j, p += across) {
                                 buffer[j * n + done + i] = *reinterpret_cast<const T*>(p);
                             }
                         }
                     });
    }

    bool is_inner_contiguous(const std::vector<int64_t>& strides) const {
        int64_t expected = sizeof(T);
        for (int d = static_cast<int>(problem_.shape.size()) - 1; d >= problem_.outer_dims; --d) {
            if (problem_.shape[d] == 1) continue;
            if (strides[d] != expected) return false;
            expected *= problem_.shape[d];
        }
        return true;
    }

    char* slice_base(int op, int64_t slice) const {
        char* base = problem_.data[op];
        const std::vector<int64_t>& strides = problem_.strides[op];
        for (int d = problem_.outer_dims - 1; d >= 0; --d) {
            base += (slice % outer_shape_[d]) * strides[d];
            slice /= outer_shape_[d];
        }
        return base;
    }

    // Copies n elements from flat position `begin` of a strided slice into `buffer`
    // (gather), or from `buffer` into the slice (scatter).
    void copy(int op, char* base, int64_t begin, int64_t n, T* buffer, bool gather) const {
        const int64_t* strides = problem_.strides[op].data() + problem_.outer_dims;
        const int inner_dims = static_cast<int>(inner_shape_.size());
        const int64_t step = inner_dims > 0 ? strides[inner_dims - 1] : 0;
        for_each_run(inner_shape_, begin, n,
                     [&](const std::vector<int64_t>& index, int64_t run, int64_t done) {
                         char* p = base;
                         for (int d = 0; d < inner_dims; ++d) p += index[d] * strides[d];
                         for (int64_t i = 0; i < run; ++i, p += step) {
                             T* element = reinterpret_cast<T*>(p);
                             if (gather) {
                                 buffer[done + i] = *element;
                             } else {
                                 *element = buffer[done + i];
                             }
                         }
                     });
    }

    const Problem& problem_;
    std::vector<int64_t> outer_shape_, inner_shape_;
    int64_t slice_size_ = 1;
    std::array<bool, Problem::count> present_ = {};
    std::array<bool, Problem::count> contiguous_ = {};
};

template <class T, class Kernel>
Sums sum_slice(const Operands<T>& operands, int64_t slice, int threads, Kernel kernel) {
    const int64_t size = operands.slice_size();
    return sum_chunks(ceil_div(size, kChunk), threads, [&](int64_t chunk) {
        const int64_t begin = chunk * kChunk;
        return operands.run(slice, begin, std::min(kChunk, size - begin), kernel);
    });
}

// Reduces every slice. All (slice, chunk) pairs run in one parallel loop, chunk-major: the
// threads share one region (no barrier per slice), and when slices are strided columns, the
// slices of one chunk read neighbouring elements while those rows are in cache.
template <class T>
std::vector<Sums> reduce_slices_typed(const Problem& problem) {
    const Operands<T> operands(problem);
    const KernelSet<T>& set = kernels<T>();
    const bool weighted = operands.has(Problem::weights);
    auto kernel = [&](const T* t, const T* p, const T* w, T*, int64_t n) {
        return set.reduce(problem.loss, problem.delta, t, p, weighted ? w : nullptr, n);
    };

    const int64_t slices = operands.slice_count();
    const int64_t size = operands.slice_size();
    const int64_t chunks = ceil_div(size, kChunk);
    const int threads = threads_for(slices * size);
    std::vector<Sums> result(slices);
    std::vector<Sums> partial(chunks > 1 ? slices * chunks : 0);
    auto store = [&](int64_t slice, int64_t chunk, const Sums& sums) {
        if (chunks == 1) {
            result[slice] = sums;
        } else {
            partial[slice * chunks + chunk] = sums;
        }
    };

    if (operands.gathers_in_blocks()) {
        // Blocks of neighbouring slices along the last kept axis, never across it.
        const int64_t extent = operands.last_outer_extent();
        const int64_t per_row = ceil_div(extent, kBlockSlices<T>);
        const int64_t blocks = slices / extent * per_row;
        parallel_for(blocks * chunks, threads, [&](int64_t item) {
            const int64_t block = item % blocks;
            const int64_t chunk = item / blocks;
            const int64_t offset = block % per_row * kBlockSlices<T>;
            const int64_t first = block / per_row * extent + offset;
            const int64_t count = std::min(kBlockSlices<T>, extent - offset);
            const int64_t begin = chunk * kChunk;
            Sums sums[kBlockSlices<T>];
            operands.run_block(first, count, begin, std::min(kChunk, size - begin), kernel, sums);
            for (int64_t j = 0; j < count; ++j) store(first + j, chunk, sums[j]);
        });
    } else {
        parallel_for(slices * chunks, threads, [&](int64_t item) {
            const int64_t slice = item % slices;
            const int64_t chunk = item / slices;
            const int64_t begin = chunk * kChunk;
            store(slice, chunk, operands.run(slice, begin, std::min(kChunk, size - begin), kernel));
        });
    }

    if (chunks > 1) {
        for (int64_t slice = 0; slice < slices; ++slice) {
            PairwiseSum<Sums> total;
            for (int64_t chunk = 0; chunk < chunks; ++chunk) {
                total.add(partial[slice * chunks + chunk]);
            }
            result[slice] = total.total();
        }
    }
    return result;
}

template <class T>
Sums sum_weights_typed(const Problem& problem) {
    const Operands<T> operands(problem);
    const KernelSet<T>& set = kernels<T>();
    auto kernel = [&](const T*, const T*, const T* w, T*, int64_t n) {
        return set.sum_weights(w, n);
    };
    return sum_slice(operands, 0, threads_for(operands.slice_size()), kernel);
}

// Whether map writes `n` values of T to `out` with non-temporal stores.
template <class T>
bool wants_streaming(const T* out, int64_t n) {
    return n * static_cast<int64_t>(sizeof(T)) >= kStreamMinBytes &&
           reinterpret_cast<uintptr_t>(out) % 64 == 0;
}

template <class T>
Sums map_typed(const Problem& problem, MapOp op, double scale) {
    const Operands<T> operands(problem);
    const KernelSet<T>& set = kernels<T>();
    const bool stream = operands.is_contiguous(Problem::out) &&
                        wants_streaming(reinterpret_cast<T*>(problem.data[Problem::out]),
                                        operands.slice_size());
    auto kernel = [&](const T* t, const T* p, const T* w, T* out, int64_t n) {
        return set.map(op, problem.loss, problem.delta, t, p, w, scale, out, n, stream);
    };
    return sum_slice(operands, 0, threads_for(operands.slice_size()), kernel);
}

// Room for `count` values of T, inline up to kInline values, else on the heap. The values
// start uninitialized, because every user writes each value before reading it. Skipping
// malloc and the zeroing made reduce_shared_chunks about 3% faster at 10**5 elements on two
// threads (2-core AMD Zen 5 development machine).
template <class T, size_t kInline>
class SmallBuffer {
  public:
    explicit SmallBuffer(size_t count) {
        if (count > kInline) heap_.reset(new T[count]);
    }
    T* data() { return heap_ ? heap_.get() : inline_; }

  private:
    T inline_[kInline];
    std::unique_ptr<T[]> heap_;
};

// reduce_contiguous on several threads. Each thread takes an equal share of the leaves, not
// of the chunks, which split unevenly (13 chunks at 10**5 elements split 7 to 6). A chunk cut
// by a share boundary is summed from its leaves' stored lane sums in reduce's tree, so the
// result is the same for every thread count.
template <class T>
Sums reduce_shared_chunks(const KernelSet<T>& set, Loss loss, double delta, const T* y_true,
                          const T* y_pred, const T* weights, int64_t n, int threads,
                          bool prefetch) {
    const int64_t leaves = ceil_div(n, set.leaf_size);
    const int64_t leaves_per_chunk = kChunk / set.leaf_size;
    // Thread `part` takes the elements [share(part), share(part + 1)).
    auto share = [&](int64_t part) { return std::min(n, leaves * part / threads * set.leaf_size); };

    // The chunks that a share boundary cuts, in order, with room for their leaves' sums. A
    // cut chunk needs at most 384 doubles on every target, so two cuts fit inline.
    SmallBuffer<int64_t, 8> cut_buffer(threads);
    int64_t* const cut = cut_buffer.data();
    int64_t cuts = 0;
    for (int part = 1; part < threads; ++part) {
        const int64_t boundary = share(part);
        const int64_t chunk = boundary / kChunk;
        if (boundary % kChunk != 0 && (cuts == 0 || cut[cuts - 1] != chunk)) cut[cuts++] = chunk;
    }
    const int64_t cut_doubles = leaves_per_chunk * set.leaf_doubles;
    SmallBuffer<double, 768> stored_buffer(cuts * cut_doubles);
    double* const stored = stored_buffer.data();

    // Stores the lane sums of the leaves in [from, to), which lie in one cut chunk.
    auto store = [&](int64_t from, int64_t to) {
        const int64_t chunk = from / kChunk;
        const int64_t slot = std::find(cut, cut + cuts, chunk) - cut;
        const int64_t leaf = (from - chunk * kChunk) / set.leaf_size;
        set.store_leaves(loss, delta, y_true + from, y_pred + from,
                         weights != nullptr ? weights + from : nullptr, to - from, prefetch,
                         stored + slot * cut_doubles + leaf * set.leaf_doubles);
    };

    // Up to 256 chunk sums (6 KB), enough for 2 * 10**6 elements, stay off the heap.
    const int64_t chunks = ceil_div(n, kChunk);
    SmallBuffer<Sums, 256> partial_buffer(chunks);
    Sums* const partial = partial_buffer.data();
    parallel_for(threads, threads, [&](int64_t part) {
        int64_t begin = share(part);
        const int64_t end = share(part + 1);
        if (begin % kChunk != 0) {
            const int64_t to = std::min(end, (begin / kChunk + 1) * kChunk);
            store(begin, to);
            begin = to;
        }
        // Whole chunks from begin, which is now at a chunk boundary (or at end), then the
        // start of a cut chunk. The last chunk of the array is whole even when it is short.
        const int64_t whole_end = std::max(begin, end == n ? n : end / kChunk * kChunk);
        if (whole_end > begin) {
            set.reduce_pieces(loss, delta, y_true + begin, y_pred + begin,
                              weights != nullptr ? weights + begin : nullptr, whole_end - begin,
                              kChunk, prefetch, partial + begin / kChunk);
        }
        if (end > whole_end) store(whole_end, end);
    });

    for (int64_t slot = 0; slot < cuts; ++slot) {
        const int64_t chunk_begin = cut[slot] * kChunk;
        const int64_t count = ceil_div(std::min(kChunk, n - chunk_begin), set.leaf_size);
        partial[cut[slot]] = set.sum_stored_leaves(stored + slot * cut_doubles, count);
    }
    PairwiseSum<Sums> total;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) total.add(partial[chunk]);
    return total.total();
}

}  // namespace

std::vector<Sums> reduce_slices(const Problem& problem) {
    std::vector<Sums> sums = problem.dtype == DType::f32 ? reduce_slices_typed<float>(problem)
                                                         : reduce_slices_typed<double>(problem);
    for (Sums& slice : sums) slice = canonical(slice);
    return sums;
}

Sums sum_weights(const Problem& problem) {
    if (problem.dtype == DType::f32) return canonical(sum_weights_typed<float>(problem));
    return canonical(sum_weights_typed<double>(problem));
}

Sums map(const Problem& problem, MapOp op, double scale) {
    if (problem.dtype == DType::f32) return canonical(map_typed<float>(problem, op, scale));
    return canonical(map_typed<double>(problem, op, scale));
}

template <class T>
Sums reduce_contiguous(Loss loss, double delta, const T* y_true, const T* y_pred, const T* weights,
                       int64_t n) {
    const KernelSet<T>& set = kernels<T>();
    // No more threads than chunks, which keeps small arrays on few threads on a large machine.
    const int threads = static_cast<int>(std::min<int64_t>(threads_for(n), ceil_div(n, kChunk)));
    const int64_t arrays = weights != nullptr ? 3 : 2;
    const bool prefetch = wants_prefetch(arrays * n * static_cast<int64_t>(sizeof(T)), threads);
    if (threads > 1) {
        return canonical(reduce_shared_chunks(set, loss, delta, y_true, y_pred, weights, n,
                                              threads, prefetch));
    }

    // On one thread, batches of chunks with one kernel call each. Their sums go to a buffer
    // on the stack, so that small calls allocate nothing.
    Sums batch[kBatch];
    PairwiseSum<Sums> total;
    for (int64_t begin = 0; begin < n; begin += kBatch * kChunk) {
        const int64_t count = std::min(kBatch * kChunk, n - begin);
        set.reduce_pieces(loss, delta, y_true + begin, y_pred + begin,
                          weights != nullptr ? weights + begin : nullptr, count, kChunk,
                          prefetch, batch);
        for (int64_t chunk = 0; chunk < ceil_div(count, kChunk); ++chunk) total.add(batch[chunk]);
    }
    return canonical(total.total());
}

template <class T>
Sums map_contiguous(MapOp op, Loss loss, double delta, const T* y_true, const T* y_pred,
                    const T* weights, double scale, T* out, int64_t n) {
    const KernelSet<T>& set = kernels<T>();
    const bool stream = wants_streaming(out, n);
    return canonical(sum_chunks(ceil_div(n, kChunk), threads_for(n), [&](int64_t chunk) {
        const int64_t begin = chunk * kChunk;
        return set.map(op, loss, delta, y_true + begin, y_pred + begin,
                       weights != nullptr ? weights + begin : nullptr, scale, out + begin,
                       std::min(kChunk, n - begin), stream);
    }));
}

template <class T>
Sums sum_weights_contiguous(const T* weights, int64_t n) {
    const KernelSet<T>& set = kernels<T>();
    return canonical(sum_chunks(ceil_div(n, kChunk), threads_for(n), [&](int64_t chunk) {
        const int64_t begin = chunk * kChunk;
        return set.sum_weights(weights + begin, std::min(kChunk, n - begin));
    }));
}

template <class T>
void reduce_rows(Loss loss, double delta, const T* y_true, const T* y_pred, int64_t rows,
                 int64_t row_size, double* out) {
    const KernelSet<T>& set = kernels<T>();
    // Enough rows per work item to fill about one chunk, since a row may be short.
    const int64_t per_item = std::max<int64_t>(1, kChunk / row_size);
    const int threads = threads_for(rows * row_size);
    const bool prefetch = wants_prefetch(2 * rows * row_size * static_cast<int64_t>(sizeof(T)),
                                         threads);
    parallel_for(ceil_div(rows, per_item), threads, [&](int64_t item) {
        const int64_t end = std::min(rows, (item + 1) * per_item);
        Sums batch[kBatch];
        for (int64_t first = item * per_item; first < end; first += kBatch) {
            const int64_t count = std::min(kBatch, end - first);
            const int64_t begin = first * row_size;
            set.reduce_pieces(loss, delta, y_true + begin, y_pred + begin, nullptr,
                              count * row_size, row_size, prefetch, batch);
            for (int64_t row = 0; row < count; ++row) {
                out[first + row] = canonical(batch[row].squares);
            }
        }
    });
}

template <class T>
double stream_sum(const T* a, const T* b, int64_t n) {
    const KernelSet<T>& set = kernels<T>();
    const int64_t chunks = ceil_div(n, kChunk);
    std::vector<double> partial(chunks);
    parallel_for(chunks, threads_for(n), [&](int64_t chunk) {
        const int64_t begin = chunk * kChunk;
        partial[chunk] = set.stream_sum(a + begin, b + begin, std::min(kChunk, n - begin));
    });

    double total = 0.0;
    for (double value : partial) total += value;
    return total;
}

template <class T>
ExactSums reduce_exact_contiguous(const T* y_true, const T* y_pred, const T* weights, int64_t n) {
    const KernelSet<T>& set = kernels<T>();
    const int64_t chunks = ceil_div(n, kChunk);
    std::vector<ExactSums> partial(chunks);
    parallel_for(chunks, threads_for(n), [&](int64_t chunk) {
        const int64_t begin = chunk * kChunk;
        const T* w = weights != nullptr ? weights + begin : nullptr;
        partial[chunk] =
            set.reduce_exact(y_true + begin, y_pred + begin, w, std::min(kChunk, n - begin));
    });

    ExactSums total{0.0, 0.0, 0.0, 0.0};
    for (const ExactSums& sums : partial) total = total + sums;
    return total;
}

template Sums reduce_contiguous(Loss, double, const float*, const float*, const float*, int64_t);
template Sums reduce_contiguous(Loss, double, const double*, const double*, const double*, int64_t);
template Sums map_contiguous(MapOp, Loss, double, const float*, const float*, const float*,
                             double, float*, int64_t);
template Sums map_contiguous(MapOp, Loss, double, const double*, const double*, const double*,
                             double, double*, int64_t);
template Sums sum_weights_contiguous(const float*, int64_t);
template Sums sum_weights_contiguous(const double*, int64_t);
template void reduce_rows(Loss, double, const float*, const float*, int64_t, int64_t, double*);
template void reduce_rows(Loss, double, const double*, const double*, int64_t, int64_t, double*);
template ExactSums reduce_exact_contiguous(const float*, const float*, const float*, int64_t);
template ExactSums reduce_exact_contiguous(const double*, const double*, const double*, int64_t);
template double stream_sum(const float*, const float*, int64_t);
template double stream_sum(const double*, const double*, int64_t);

}  // namespace fastmse
