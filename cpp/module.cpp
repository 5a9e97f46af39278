// The compiled module fastmse._core: thin bindings over the driver.
//
// The Python layer (python/fastmse) validates and converts every input, then calls these
// functions with arrays that already share one shape and one native float dtype. The bindings
// check those preconditions again, because a wrong pointer here would crash the interpreter.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "bindings.hpp"
#include "buffers.hpp"
#include "dispatch.hpp"
#include "driver.hpp"
#include "threads.hpp"

namespace py = pybind11;

namespace fastmse {
namespace {

bool is_exact_ndarray(py::handle object) {
    return Py_TYPE(object.ptr()) ==
           reinterpret_cast<PyTypeObject*>(py::detail::npy_api::get().PyArray_Type_);
}

int64_t element_count(const py::array& array) { return static_cast<int64_t>(array.size()); }

// Adds `array` as operand `op` of `problem`, which takes its shape and dtype from the first
// operand added.
void add_operand(Problem& problem, Problem::Operand op, const py::array& array, const char* name) {
    DType dtype;
    if (!native_float_dtype(array, &dtype) || !(array.flags() & kAlignedFlag)) {
        throw std::invalid_argument(std::string(name) +
                                    " must be an aligned float32 or float64 array in native "
                                    "byte order");
    }

    std::vector<int64_t> shape(array.shape(), array.shape() + array.ndim());
    if (op == Problem::y_true) {
        problem.dtype = dtype;
        problem.shape = shape;
    } else if (dtype != problem.dtype || shape != problem.shape) {
        throw std::invalid_argument(std::string(name) + " must have the dtype and shape of y_true");
    }

    problem.data[op] = static_cast<char*>(const_cast<void*>(array.data()));
    problem.strides[op].assign(array.strides(), array.strides() + array.ndim());
}

Problem make_problem(const py::array& y_true, const py::array& y_pred, const py::object& weights,
                     int outer_dims) {
    Problem problem;
    add_operand(problem, Problem::y_true, y_true, "y_true");
    add_operand(problem, Problem::y_pred, y_pred, "y_pred");
    if (!weights.is_none()) {
        add_operand(problem, Problem::weights, weights.cast<py::array>(), "sample_weight");
    }
    if (outer_dims < 0 || outer_dims > static_cast<int>(problem.shape.size())) {
        throw std::invalid_argument("outer_dims must be between 0 and the number of axes");
    }
    problem.outer_dims = outer_dims;
    return problem;
}

// The loss named by the Python layer.
Loss parse_loss(const std::string& name) {
    if (name == "squared") return Loss::squared;
    if (name == "absolute") return Loss::absolute;
    if (name == "huber") return Loss::huber;
    throw std::invalid_argument("loss must be 'squared', 'absolute' or 'huber', not '" + name +
                                "'");
}

// The loss named by the Python layer, with Huber's threshold.
void set_loss(Problem& problem, const std::string& name, double delta) {
    problem.loss = parse_loss(name);
    problem.delta = delta;
}

py::tuple sums_tuple(const Sums& sums) {
    return py::make_tuple(sums.squares, sums.weights, sums.min_weight);
}

// Whether y_true and y_pred are plain ndarrays of one shape, C-contiguous, aligned,
// non-empty and of one native float dtype: the inputs that need no work in Python.
bool is_contiguous_pair(py::handle y_true, py::handle y_pred, DType* dtype) {
    if (!is_exact_ndarray(y_true) || !is_exact_ndarray(y_pred)) return false;
    const auto t = py::reinterpret_borrow<py::array>(y_true);
    const auto p = py::reinterpret_borrow<py::array>(y_pred);
    const int ndim = static_cast<int>(t.ndim());
    if (p.ndim() != ndim) return false;
    for (int d = 0; d < ndim; ++d) {
        if (t.shape(d) != p.shape(d)) return false;
    }

    const int needed = py::array::c_style | kAlignedFlag;
    DType p_dtype;
    return element_count(t) > 0 && (t.flags() & needed) == needed &&
           (p.flags() & needed) == needed && native_float_dtype(t, dtype) &&
           native_float_dtype(p, &p_dtype) && *dtype == p_dtype;
}

// Whether `weights` can go with a contiguous pair (see is_contiguous_pair) of this dtype and
// shape without work in Python: None, or one weight per element of 1-D data, itself a plain,
// C-contiguous, aligned ndarray of the same dtype. Sets *data to the weights or null.
bool is_contiguous_weights(py::handle weights, const py::array& y_true, DType dtype,
                           const void** data) {
    *data = nullptr;
    if (weights.is_none()) return true;
    if (!is_exact_ndarray(weights) || y_true.ndim() != 1) return false;
    const auto w = py::reinterpret_borrow<py::array>(weights);
    const int needed = py::array::c_style | kAlignedFlag;
    DType w_dtype;
    if (w.ndim() != 1 || w.shape(0) != y_true.shape(0) || (w.flags() & needed) != needed ||
        !native_float_dtype(w, &w_dtype) || w_dtype != dtype) {
        return false;
    }
    *data = w.data();
    return true;
}

// Sets the sums of a reduction over every element of a contiguous pair with contiguous
// weights (see is_contiguous_weights), and the element count. False for the general path.
bool sum_contiguous(py::handle y_true, py::handle y_pred, py::handle weights, Loss loss,
                    double delta, Sums* sums, int64_t* n) {
    DType dtype;
    if (!is_contiguous_pair(y_true, y_pred, &dtype)) return false;
    const auto t = py::reinterpret_borrow<py::array>(y_true);
    const auto p = py::reinterpret_borrow<py::array>(y_pred);
    const void* w;
    if (!is_contiguous_weights(weights, t, dtype, &w)) return false;
    *n = element_count(t);

    *sums = without_gil_if_large(*n, [&] {
        if (dtype == DType::f32) {
            return reduce_contiguous(loss, delta, static_cast<const float*>(t.data()),
                                     static_cast<const float*>(p.data()),
                                     static_cast<const float*>(w), *n);
        }
        return reduce_contiguous(loss, delta, static_cast<const double*>(t.data()),
                                 static_cast<const double*>(p.data()),
                                 static_cast<const double*>(w), *n);
    });
    return true;
}

// Limits on the weight sums that the compiled shortcuts accept. _losses.py reads them from
// here, explains them, and scales the weights of other sums.
constexpr double kMinWeightSum = 0x1p-1000;
constexpr double kSmallWeightSum = 0.5;
constexpr double kLargeWeightSum = 0x1p200;
constexpr double kUnderflowPerElement = 0x1p-1022;

// Whether the sums of n elements with valid weights need no scaling (see
// _slice_weight_exponents in _losses.py): no weight times a loss can have underflowed, nor,
// for a mean, overflowed.
bool loss_sum_in_range(const Sums& sums, int64_t n, bool mean) {
    if (mean && sums.weights >= kLargeWeightSum) return !std::isinf(sums.squares);
    if (sums.weights < kSmallWeightSum) {
        return !(sums.squares < static_cast<double>(n) * kUnderflowPerElement);
    }
    return true;
}

// The mean (if `mean`) or the sum of a contiguous reduction over n elements, or None for the
// general path, which raises for invalid weights and scales the rest. NaN weight sums fail
// every comparison, so they take that path too.
py::object contiguous_result(const Sums& sums, int64_t n, bool weighted, bool mean) {
    if (!weighted) return py::float_(mean ? sums.squares / static_cast<double>(n) : sums.squares);
    const bool valid =
        sums.min_weight == 0.0 && sums.weights >= kMinWeightSum && !std::isinf(sums.weights);
    if (!valid || !loss_sum_in_range(sums, n, mean)) return py::none();
    return py::float_(mean ? sums.squares / sums.weights : sums.squares);
}

py::object mse_contiguous(py::handle y_true, py::handle y_pred, py::handle weights) {
    Sums sums;
    int64_t n;
    if (!sum_contiguous(y_true, y_pred, weights, Loss::squared, 0.0, &sums, &n)) {
        return py::none();
    }
    return contiguous_result(sums, n, !weights.is_none(), true);
}

py::object sse_contiguous(py::handle y_true, py::handle y_pred, py::handle weights) {
    Sums sums;
    int64_t n;
    if (!sum_contiguous(y_true, y_pred, weights, Loss::squared, 0.0, &sums, &n)) {
        return py::none();
    }
    return contiguous_result(sums, n, !weights.is_none(), false);
}

// The mean (if `mean`) or the sum of any loss over every element of a contiguous pair with
// contiguous weights or None (see is_contiguous_weights), or None for the general path.
py::object reduce_contiguous_binding(py::handle y_true, py::handle y_pred, py::handle weights,
                                     bool mean, const std::string& loss, double delta) {
    Sums sums;
    int64_t n;
    if (!sum_contiguous(y_true, y_pred, weights, parse_loss(loss), delta, &sums, &n)) {
        return py::none();
    }
    return contiguous_result(sums, n, !weights.is_none(), mean);
}

// Unweighted reduce over the last axes of a contiguous pair (see is_contiguous_pair). Returns
// the loss sum of each slice, or its mean if `mean`, shaped as the kept axes, or None for
// the general path.
py::object reduce_trailing_binding(py::handle y_true, py::handle y_pred, int outer_dims, bool mean,
                                   const std::string& loss, double delta) {
    DType dtype;
    if (!is_contiguous_pair(y_true, y_pred, &dtype)) return py::none();
    const auto t = py::reinterpret_borrow<py::array>(y_true);
    const auto p = py::reinterpret_borrow<py::array>(y_pred);
    if (outer_dims < 0 || outer_dims > t.ndim()) {
        throw std::invalid_argument("outer_dims must be between 0 and the number of axes");
    }
    const int64_t n = element_count(t);
    int64_t row_size = 1;
    for (int d = outer_dims; d < t.ndim(); ++d) row_size *= t.shape(d);
    const int64_t rows = n / row_size;
    std::vector<py::ssize_t> kept_shape(t.shape(), t.shape() + outer_dims);
    py::array_t<double> squares(kept_shape);
    double* out = squares.mutable_data();
    // The division of the general path, on the same doubles.
    auto finish = [&] {
        if (mean) {
            for (int64_t i = 0; i < rows; ++i) out[i] /= static_cast<double>(row_size);
        }
        return std::move(squares);
    };

    if (row_size <= kChunk) {
        // Rows of one chunk each: one kernel call per row, as reduce_slices makes.
        const Loss parsed = parse_loss(loss);
        without_gil_if_large(n, [&] {
            if (dtype == DType::f32) {
                reduce_rows(parsed, delta, static_cast<const float*>(t.data()),
                            static_cast<const float*>(p.data()), rows, row_size, out);
            } else {
                reduce_rows(parsed, delta, static_cast<const double*>(t.data()),
                            static_cast<const double*>(p.data()), rows, row_size, out);
            }
            return 0;
        });
        return finish();
    }

    Problem problem = make_problem(t, p, py::none(), outer_dims);
    set_loss(problem, loss, delta);
    const std::vector<Sums> slices =
        without_gil_if_large(n, [&] { return reduce_slices(problem); });
    for (int64_t i = 0; i < rows; ++i) out[i] = slices[i].squares;
    return finish();
}

py::tuple reduce(const py::array& y_true, const py::array& y_pred, const py::object& weights,
                 int outer_dims, const std::string& loss, double delta) {
    Problem problem = make_problem(y_true, y_pred, weights, outer_dims);
    set_loss(problem, loss, delta);
    const int64_t n = element_count(y_true);
    const std::vector<Sums> slices =
        without_gil_if_large(n, [&] { return reduce_slices(problem); });

    const auto count = static_cast<py::ssize_t>(slices.size());
    py::array_t<double> squares(count), weight_sums(count);
    double min_weight = 0.0;
    auto squares_out = squares.mutable_unchecked<1>();
    auto weights_out = weight_sums.mutable_unchecked<1>();
    for (py::ssize_t i = 0; i < count; ++i) {
        squares_out(i) = slices[i].squares;
        weights_out(i) = slices[i].weights;
        min_weight = std::min(min_weight, slices[i].min_weight);
    }
    return py::make_tuple(squares, weight_sums, min_weight);
}

py::tuple sum_weights_binding(const py::array& weights) {
    Problem problem;
    add_operand(problem, Problem::y_true, weights, "sample_weight");
    // The weights take the place of y_true only to set shape and dtype.
    problem.data[Problem::weights] = problem.data[Problem::y_true];
    problem.strides[Problem::weights] = problem.strides[Problem::y_true];
    problem.data[Problem::y_true] = nullptr;
    const int64_t n = element_count(weights);
    return sums_tuple(without_gil_if_large(n, [&] { return sum_weights(problem); }));
}

py::tuple map_binding(const std::string& op_name, const py::array& y_true, const py::array& y_pred,
                      const py::object& weights, const py::array& out, double scale,
                      const std::string& loss, double delta) {
    MapOp op;
    if (op_name == "loss") {
        op = MapOp::loss;
    } else if (op_name == "gradient") {
        op = MapOp::gradient;
    } else {
        throw std::invalid_argument("op must be 'loss' or 'gradient', not '" + op_name + "'");
    }

    Problem problem = make_problem(y_true, y_pred, weights, 0);
    set_loss(problem, loss, delta);
    if (!out.writeable()) throw std::invalid_argument("out must be writable");
    add_operand(problem, Problem::out, out, "out");
    const int64_t n = element_count(y_true);
    return sums_tuple(without_gil_if_large(n, [&] { return map(problem, op, scale); }));
}

double stream_sum_binding(const py::array& a, const py::array& b) {
    const Problem problem = make_problem(a, b, py::none(), 0);
    const int needed = py::array::c_style;
    if ((a.flags() & needed) != needed || (b.flags() & needed) != needed) {
        throw std::invalid_argument("a and b must be C-contiguous");
    }
    const int64_t n = element_count(a);
    return without_gil_if_large(n, [&] {
        if (problem.dtype == DType::f32) {
            return stream_sum(static_cast<const float*>(a.data()),
                              static_cast<const float*>(b.data()), n);
        }
        return stream_sum(static_cast<const double*>(a.data()),
                          static_cast<const double*>(b.data()), n);
    });
}

// A C-contiguous, uninitialised array from buffers.hpp; its memory returns there when the
// array is freed.
py::array empty(const std::vector<py::ssize_t>& shape, const py::dtype& dtype) {
    size_t bytes = static_cast<size_t>(dtype.itemsize());
    for (py::ssize_t extent : shape) {
        if (extent < 0) throw std::invalid_argument("shape must not have negative extents");
        if (extent != 0 && bytes > SIZE_MAX / static_cast<size_t>(extent)) throw std::bad_alloc();
        bytes *= static_cast<size_t>(extent);
    }

    struct Block {
        void* data;
        size_t capacity;
    };
    auto* block = new Block{nullptr, 0};
    block->data = acquire_buffer(bytes, &block->capacity);
    if (block->data == nullptr) {
        delete block;
        throw std::bad_alloc();
    }
    py::capsule owner(block, [](void* pointer) {
        auto* owned = static_cast<Block*>(pointer);
        release_buffer(owned->data, owned->capacity);
        delete owned;
    });
    return py::array(dtype, shape, {}, block->data, owner);
}

// The mean of a loss and its gradient for a contiguous pair (see is_contiguous_pair) and
// contiguous weights or None (see is_contiguous_weights), or None for the general path.
// That path also takes weights that are not all non-negative or whose sum lies outside
// [kSmallWeightSum, kLargeWeightSum), where the sum or the products may need scaling. `out`
// may be None, or a C-contiguous writable array of the inputs' shape and dtype that is one
// of them or shares no memory with them, and none with the weights.
py::object value_and_grad_contiguous(py::handle y_true, py::handle y_pred, py::handle out,
                                     py::handle weights, const std::string& loss, double delta) {
    const Loss parsed = parse_loss(loss);
    DType dtype;
    if (!is_contiguous_pair(y_true, y_pred, &dtype)) return py::none();
    const auto t = py::reinterpret_borrow<py::array>(y_true);
    const auto p = py::reinterpret_borrow<py::array>(y_pred);
    const void* w;
    if (!is_contiguous_weights(weights, t, dtype, &w)) return py::none();
    const int64_t n = element_count(t);
    const size_t bytes = static_cast<size_t>(n) * static_cast<size_t>(t.itemsize());
    const bool f32 = dtype == DType::f32;

    double divisor = static_cast<double>(n);
    if (w != nullptr) {
        const Sums sums = without_gil_if_large(n, [&] {
            return f32 ? sum_weights_contiguous(static_cast<const float*>(w), n)
                       : sum_weights_contiguous(static_cast<const double*>(w), n);
        });
        if (sums.min_weight != 0.0 || !(sums.weights >= kSmallWeightSum) ||
            !(sums.weights < kLargeWeightSum)) {
            return py::none();
        }
        divisor = sums.weights;
    }

    py::array result;
    if (out.is_none()) {
        result = empty(std::vector<py::ssize_t>(t.shape(), t.shape() + t.ndim()), t.dtype());
    } else {
        DType out_dtype;
        if (!is_contiguous_pair(y_true, out, &out_dtype) || out_dtype != dtype) return py::none();
        result = py::reinterpret_borrow<py::array>(out);
        if (!result.writeable()) return py::none();
        const auto* begin = static_cast<const char*>(result.data());
        auto overlaps = [&](const void* data) {
            const auto* other = static_cast<const char*>(data);
            return begin < other + bytes && other < begin + bytes;
        };
        for (const py::array* input : {&t, &p}) {
            if (overlaps(input->data()) && begin != input->data()) return py::none();
        }
        if (w != nullptr && overlaps(w)) return py::none();
    }

    // The squared loss's slope d lacks the factor 2 of the derivative of d**2.
    const double scale = (parsed == Loss::squared ? 2.0 : 1.0) / divisor;
    const Sums sums = without_gil_if_large(n, [&] {
        auto run = [&](auto* out_data) {
            using T = std::remove_pointer_t<decltype(out_data)>;
            return map_contiguous(MapOp::gradient, parsed, delta,
                                  static_cast<const T*>(t.data()), static_cast<const T*>(p.data()),
                                  static_cast<const T*>(w), scale, out_data, n);
        };
        return f32 ? run(static_cast<float*>(result.mutable_data()))
                   : run(static_cast<double*>(result.mutable_data()));
    });
    return py::make_tuple(sums.squares / divisor, result);
}

// The double-double sums of squared errors and of weights (zero without weights) of 1-d
// contiguous arrays of one native float dtype, as (squares_hi, squares_lo, weights_hi,
// weights_lo).
py::tuple exact_sums(const py::array& y_true, const py::array& y_pred, const py::object& weights) {
    Problem problem = make_problem(y_true, y_pred, weights, 0);
    const int needed = py::array::c_style | kAlignedFlag;
    bool contiguous = problem.shape.size() == 1 && (y_true.flags() & needed) == needed &&
                      (y_pred.flags() & needed) == needed;
    if (!weights.is_none()) {
        contiguous = contiguous && (weights.cast<py::array>().flags() & needed) == needed;
    }
    if (!contiguous) throw std::invalid_argument("exact_sums needs contiguous 1-d arrays");

    const int64_t n = problem.shape[0];
    const ExactSums sums = without_gil_if_large(n, [&] {
        if (problem.dtype == DType::f32) {
            return reduce_exact_contiguous(
                reinterpret_cast<const float*>(problem.data[Problem::y_true]),
                reinterpret_cast<const float*>(problem.data[Problem::y_pred]),
                reinterpret_cast<const float*>(problem.data[Problem::weights]), n);
        }
        return reduce_exact_contiguous(
            reinterpret_cast<const double*>(problem.data[Problem::y_true]),
            reinterpret_cast<const double*>(problem.data[Problem::y_pred]),
            reinterpret_cast<const double*>(problem.data[Problem::weights]), n);
    });
    return py::make_tuple(sums.squares_hi, sums.squares_lo, sums.weights_hi, sums.weights_lo);
}

py::dict config() {
    py::dict info;
    info["version"] = FASTMSE_VERSION;
    info["compiler"] = FASTMSE_COMPILER;
    info["built_targets"] = built_targets();
    info["supported_targets"] = supported_targets();
    info["target"] = std::string(active_kernels().name);
    info["split_conversions"] = split_conversions();
    const PrefetchWindow window = prefetch_window();
    info["prefetch_window"] = py::make_tuple(window.min_bytes_per_thread,
                                             window.max_bytes_per_thread, window.max_bytes);
    info["openmp"] = openmp_enabled();
    info["num_threads"] = get_num_threads();
    info["forked_child"] = in_forked_child();
    info["chunk_size"] = kChunk;
    info["parallel_min_elements"] = kParallelMinElements;
    info["cached_bytes"] = cached_bytes();
    return info;
}

}  // namespace
}  // namespace fastmse

PYBIND11_MODULE(_core, m) {
    using namespace fastmse;
    m.doc() = "fastmse's compiled kernels; use the functions of the fastmse package instead.";

    // The best target this CPU runs; fastmse/__init__.py applies the FASTMSE_SIMD cap after.
    select_best_target("");

    m.def("mse_contiguous", &mse_contiguous, py::arg("y_true"), py::arg("y_pred"),
          py::arg("weights"));
    m.def("sse_contiguous", &sse_contiguous, py::arg("y_true"), py::arg("y_pred"),
          py::arg("weights"));
    m.def("reduce_contiguous", &reduce_contiguous_binding, py::arg("y_true"), py::arg("y_pred"),
          py::arg("weights"), py::arg("mean"), py::arg("loss"), py::arg("delta"));
    m.def("reduce_trailing", &reduce_trailing_binding, py::arg("y_true"), py::arg("y_pred"),
          py::arg("outer_dims"), py::arg("mean"), py::arg("loss"), py::arg("delta"));
    m.def("reduce", &reduce, py::arg("y_true"), py::arg("y_pred"), py::arg("weights"),
          py::arg("outer_dims"), py::arg("loss") = "squared", py::arg("delta") = 1.0);
    m.def("sum_weights", &sum_weights_binding, py::arg("weights"));
    m.def("map", &map_binding, py::arg("op"), py::arg("y_true"), py::arg("y_pred"),
          py::arg("weights"), py::arg("out"), py::arg("scale"), py::arg("loss") = "squared",
          py::arg("delta") = 1.0);
    m.def("stream_sum", &stream_sum_binding, py::arg("a"), py::arg("b"));
    m.def("exact_sums", &exact_sums, py::arg("y_true"), py::arg("y_pred"), py::arg("weights"));
    m.def("empty", &empty, py::arg("shape"), py::arg("dtype"));
    m.def("value_and_grad_contiguous", &value_and_grad_contiguous, py::arg("y_true"),
          py::arg("y_pred"), py::arg("out"), py::arg("weights"), py::arg("loss"),
          py::arg("delta"));
    m.attr("MIN_WEIGHT_SUM") = kMinWeightSum;
    m.attr("SMALL_WEIGHT_SUM") = kSmallWeightSum;
    m.attr("LARGE_WEIGHT_SUM") = kLargeWeightSum;
    m.attr("UNDERFLOW_PER_ELEMENT") = kUnderflowPerElement;
    m.def("clear_buffer_cache", &clear_buffer_cache);

    m.def("init_threads", &init_threads, py::arg("count"));
    m.def("set_num_threads", &set_num_threads, py::arg("count"));
    m.def("get_num_threads", &get_num_threads);
    m.def("config", &config);
    m.def("select_best_target", &select_best_target, py::arg("cap"));
    m.def("use_target", &use_target, py::arg("name"));
    m.def("set_split_conversions", &set_split_conversions, py::arg("split"));
    m.def(
        "set_prefetch_window",
        [](int64_t min_bytes_per_thread, int64_t max_bytes_per_thread, int64_t max_bytes) {
            set_prefetch_window({min_bytes_per_thread, max_bytes_per_thread, max_bytes});
        },
        py::arg("min_bytes_per_thread"), py::arg("max_bytes_per_thread"), py::arg("max_bytes"));

    bind_linear(m);
}
