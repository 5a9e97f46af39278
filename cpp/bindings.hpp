// Helpers shared by the binding files of fastmse._core.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <exception>

#include "driver.hpp"

namespace fastmse {

namespace py = pybind11;

// Calls below this many elements keep the GIL: releasing and taking it back costs about as
// much as the kernel itself on arrays this small.
constexpr int64_t kReleaseGilElements = 1 << 13;

constexpr int kAlignedFlag = 0x0100;  // NPY_ARRAY_ALIGNED

inline bool is_native(const py::dtype& dtype) {
    const char order = dtype.byteorder();
    return order == '=' || order == '|' || order == (__BYTE_ORDER__ == 1234 ? '<' : '>');
}

// The dtype of a float32 or float64 array in native byte order; false for anything else.
inline bool native_float_dtype(const py::array& array, DType* dtype) {
    const py::dtype descr = array.dtype();
    if (!is_native(descr)) return false;
    const int num = descr.num();
    if (num == py::dtype::of<double>().num()) {
        *dtype = DType::f64;
        return true;
    }
    if (num == py::dtype::of<float>().num()) {
        *dtype = DType::f32;
        return true;
    }
    return false;
}

// Runs `work` without the GIL when it is large enough to be worth it.
//
// Not py::gil_scoped_release: at interpreter exit, a daemon thread that takes the GIL back is
// ended by pthread_exit, whose forced unwinding aborts the process when it starts inside a
// destructor, which is noexcept. Here it starts in a plain function and unwinds normally.
template <class Work>
auto without_gil_if_large(int64_t elements, Work work) {
    if (elements < kReleaseGilElements) return work();
    decltype(work()) result{};
    std::exception_ptr error;
    PyThreadState* state = PyEval_SaveThread();
    try {
        result = work();
    } catch (...) {
        error = std::current_exception();
    }
    PyEval_RestoreThread(state);
    if (error) std::rethrow_exception(error);
    return result;
}

// Adds the bindings of the linear-regression kernels and fit (module_linear.cpp).
void bind_linear(py::module_& m);

}  // namespace fastmse
