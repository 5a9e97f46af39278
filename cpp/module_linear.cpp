// Bindings of the linear-regression gradient and fit (linear_driver.hpp).
//
// python/fastmse/_linear.py validates the user's arrays and passes X as a C-contiguous
// float32 or float64 array, y and the weights in X's dtype, and the coefficients in float64
// as k x d. The checks here only guard against a crash when that contract is broken.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "linear_driver.hpp"

namespace fastmse {
namespace {

void require(bool condition, const std::string& message) {
    if (!condition) throw std::invalid_argument(message);
}

bool is_c_contiguous(const py::array& array) {
    const int needed = py::array::c_style | kAlignedFlag;
    return (array.flags() & needed) == needed;
}

// The data of a problem in storage type T, after checking every array's dtype and shape.
template <class T>
LinearData<T> linear_data(const py::array& x, const py::object& y, const py::object& weights,
                          double weight_sum, int64_t k) {
    require(x.ndim() == 2 && is_c_contiguous(x) && py::dtype::of<T>().equal(x.dtype()),
            "X must be a C-contiguous, aligned 2-d float array");
    LinearData<T> data{
        static_cast<const T*>(x.data()), x.shape(0), x.shape(1), nullptr, k, nullptr, weight_sum};
    require(data.n > 0 && data.d > 0 && k > 0, "X and the coefficients must not be empty");

    if (!y.is_none()) {
        const auto target = y.cast<py::array>();
        const bool shape_ok =
            (target.ndim() == 1 && k == 1 && target.shape(0) == data.n) ||
            (target.ndim() == 2 && target.shape(0) == data.n && target.shape(1) == k);
        require(shape_ok && is_c_contiguous(target) && py::dtype::of<T>().equal(target.dtype()),
                "y must be C-contiguous, aligned, in X's dtype, of shape (n,) or (n, k)");
        data.y = static_cast<const T*>(target.data());
    }
    if (!weights.is_none()) {
        const auto w = weights.cast<py::array>();
        require(w.ndim() == 1 && w.shape(0) == data.n && is_c_contiguous(w) &&
                    py::dtype::of<T>().equal(w.dtype()),
                "sample_weight must be C-contiguous, aligned, in X's dtype, of shape (n,)");
        data.weights = static_cast<const T*>(w.data());
    }
    require(weight_sum > 0.0, "weight_sum must be positive");
    return data;
}

using Coefficients = py::array_t<double, py::array::c_style | py::array::forcecast>;

// A copy of a float64 array's values. Arrays unpickled by Dask's workers may be misaligned,
// so the bytes are copied rather than read as doubles in place.
std::vector<double> values_of(const Coefficients& array) {
    std::vector<double> values(static_cast<size_t>(array.size()));
    std::memcpy(values.data(), array.data(), values.size() * sizeof(double));
    return values;
}

// The number of outputs k of coefficients (k, d) and intercepts (k,), after checking them.
int64_t output_count(const Coefficients& coef, const Coefficients& intercept, int64_t d) {
    require(coef.ndim() == 2 && coef.shape(1) == d, "coef must have shape (k, d)");
    require(intercept.ndim() == 1 && intercept.shape(0) == coef.shape(0),
            "intercept must have shape (k,)");
    return coef.shape(0);
}

template <class T>
py::tuple value_and_grad_typed(const py::array& x, const py::object& y, const py::object& weights,
                               double weight_sum, const Coefficients& coef,
                               const Coefficients& intercept, double l2) {
    const int64_t k = output_count(coef, intercept, x.ndim() == 2 ? x.shape(1) : 0);
    const LinearData<T> data = linear_data<T>(x, y, weights, weight_sum, k);
    const std::vector<double> coef_values = values_of(coef);
    const std::vector<double> intercept_values = values_of(intercept);
    const LinearGradient grad = without_gil_if_large(data.n * data.d * k, [&] {
        return linear_gradient(data, coef_values.data(), intercept_values.data(), l2);
    });

    Coefficients grad_coef({k, data.d}), grad_intercept(k);
    std::copy(grad.coef.begin(), grad.coef.end(), grad_coef.mutable_data());
    std::copy(grad.intercept.begin(), grad.intercept.end(), grad_intercept.mutable_data());
    return py::make_tuple(grad.loss, grad_coef, grad_intercept);
}

py::tuple linear_value_and_grad(const py::array& x, const py::object& y, const py::object& weights,
                                double weight_sum, const Coefficients& coef,
                                const Coefficients& intercept, double l2) {
    DType dtype;
    require(native_float_dtype(x, &dtype), "X must be float32 or float64 in native byte order");
    if (dtype == DType::f32) {
        return value_and_grad_typed<float>(x, y, weights, weight_sum, coef, intercept, l2);
    }
    return value_and_grad_typed<double>(x, y, weights, weight_sum, coef, intercept, l2);
}

// Takes the GIL for a moment to ask whether a signal handler raised (Ctrl-C's
// KeyboardInterrupt); the exception then stays set for the binding to raise.
bool python_signal_raised() {
    const PyGILState_STATE state = PyGILState_Ensure();
    const bool raised = PyErr_CheckSignals() != 0;
    PyGILState_Release(state);
    return raised;
}

// fastmse._core.LinearFit: a LinearFit<float> or LinearFit<double> behind one Python type.
// Keeps the arrays it reads alive for as long as it lives.
class PyLinearFit {
  public:
    PyLinearFit(py::array x, py::object y, py::object weights, double weight_sum,
                const Coefficients& coef, const Coefficients& intercept, const py::object& offset,
                const FitOptions& options)
        : x_(std::move(x)), y_(std::move(y)), weights_(std::move(weights)) {
        DType dtype;
        require(native_float_dtype(x_, &dtype),
                "X must be float32 or float64 in native byte order");
        const int64_t k = output_count(coef, intercept, x_.ndim() == 2 ? x_.shape(1) : 0);
        std::vector<double> c = values_of(coef);
        std::vector<double> b = values_of(intercept);
        std::vector<double> shift;
        if (!offset.is_none()) {
            const auto values = offset.cast<Coefficients>();
            require(values.ndim() == 1 && values.shape(0) == x_.shape(1),
                    "x_offset must have shape (d,)");
            shift = values_of(values);
        }
        if (dtype == DType::f32) {
            f32_ = std::make_unique<LinearFit<float>>(
                linear_data<float>(x_, y_, weights_, weight_sum, k), options, c, b, shift);
        } else {
            f64_ = std::make_unique<LinearFit<double>>(
                linear_data<double>(x_, y_, weights_, weight_sum, k), options, c, b, shift);
        }
    }

    double curvature(int iterations) {
        bool raised = false;
        const std::function<bool()> interrupted = [&] { return raised = python_signal_raised(); };
        const double estimate = without_gil_if_large(kReleaseGilElements, [&] {
            return f32_ ? f32_->curvature(iterations, interrupted)
                        : f64_->curvature(iterations, interrupted);
        });
        if (raised) throw py::error_already_set();
        return estimate;
    }

    // Runs up to `epochs` epochs and returns their losses; raises KeyboardInterrupt (or
    // whatever a signal handler raised) with the coefficients of the last completed step.
    std::vector<double> run(int64_t epochs) {
        require(epochs >= 0, "epochs must not be negative");
        const size_t before = losses_.size();
        std::vector<double>& losses = losses_;
        bool raised = false;
        const std::function<bool()> interrupted = [&] { return raised = python_signal_raised(); };
        without_gil_if_large(kReleaseGilElements, [&] {
            if (f32_) {
                f32_->run(epochs, losses, interrupted);
            } else {
                f64_->run(epochs, losses, interrupted);
            }
            return 0;
        });
        if (raised) throw py::error_already_set();
        return std::vector<double>(losses_.begin() + static_cast<std::ptrdiff_t>(before),
                                   losses_.end());
    }

    // The losses of every epoch that run completed, also those of an interrupted call.
    const std::vector<double>& losses() const { return losses_; }

    std::string status() const {
        switch (f32_ ? f32_->status() : f64_->status()) {
            case FitStatus::converged:
                return "converged";
            case FitStatus::diverged:
                return "diverged";
            case FitStatus::overflow:
                return "overflow";
            default:
                return "running";
        }
    }

    double learning_rate() const { return f32_ ? f32_->learning_rate() : f64_->learning_rate(); }

    void set_learning_rate(double rate) {
        require(rate > 0.0 && std::isfinite(rate), "learning_rate must be positive and finite");
        f32_ ? f32_->set_learning_rate(rate) : f64_->set_learning_rate(rate);
    }

    double last_loss() const { return f32_ ? f32_->last_loss() : f64_->last_loss(); }
    double start_loss() const { return f32_ ? f32_->start_loss() : f64_->start_loss(); }

    Coefficients coef() const {
        const std::vector<double>& c = f32_ ? f32_->coef() : f64_->coef();
        const int64_t d = x_.shape(1);
        Coefficients result({static_cast<int64_t>(c.size()) / d, d});
        std::copy(c.begin(), c.end(), result.mutable_data());
        return result;
    }

    Coefficients intercept() const {
        const std::vector<double> b = f32_ ? f32_->intercept() : f64_->intercept();
        Coefficients result(static_cast<py::ssize_t>(b.size()));
        std::copy(b.begin(), b.end(), result.mutable_data());
        return result;
    }

  private:
    py::array x_;
    py::object y_, weights_;
    std::vector<double> losses_;
    std::unique_ptr<LinearFit<float>> f32_;
    std::unique_ptr<LinearFit<double>> f64_;
};

PyLinearFit make_fit(py::array x, py::object y, py::object weights, double weight_sum,
                     const Coefficients& coef, const Coefficients& intercept,
                     const py::object& x_offset, double learning_rate, bool auto_rate, double l2,
                     bool fit_intercept, int64_t batch_size, bool shuffle, uint64_t seed,
                     double tol, int n_iter_no_change, bool momentum, bool stop_early) {
    require(batch_size >= 0, "batch_size must not be negative");
    require(n_iter_no_change >= 1, "n_iter_no_change must be at least 1");
    FitOptions options;
    options.learning_rate = learning_rate;
    options.auto_rate = auto_rate;
    options.l2 = l2;
    options.fit_intercept = fit_intercept;
    options.batch_size = batch_size;
    options.shuffle = shuffle;
    options.seed = seed;
    options.tol = tol;
    options.n_iter_no_change = n_iter_no_change;
    options.momentum = momentum;
    options.stop_early = stop_early;
    return PyLinearFit(std::move(x), std::move(y), std::move(weights), weight_sum, coef, intercept,
                       x_offset, options);
}

}  // namespace

void bind_linear(py::module_& m) {
    m.def("linear_value_and_grad", &linear_value_and_grad, py::arg("X"), py::arg("y"),
          py::arg("weights"), py::arg("weight_sum"), py::arg("coef"), py::arg("intercept"),
          py::arg("l2"));

    py::class_<PyLinearFit>(m, "LinearFit")
        .def(py::init(&make_fit), py::arg("X"), py::arg("y"), py::arg("weights"),
             py::arg("weight_sum"), py::arg("coef"), py::arg("intercept"), py::arg("x_offset"),
             py::arg("learning_rate"), py::arg("auto_rate"), py::arg("l2"),
             py::arg("fit_intercept"), py::arg("batch_size"), py::arg("shuffle"), py::arg("seed"),
             py::arg("tol"), py::arg("n_iter_no_change"), py::arg("momentum"),
             py::arg("stop_early"))
        .def("curvature", &PyLinearFit::curvature, py::arg("iterations"))
        .def("run", &PyLinearFit::run, py::arg("epochs"))
        .def_property_readonly("status", &PyLinearFit::status)
        .def_property("learning_rate", &PyLinearFit::learning_rate, &PyLinearFit::set_learning_rate)
        .def_property_readonly("last_loss", &PyLinearFit::last_loss)
        .def_property_readonly("losses", &PyLinearFit::losses)
        .def_property_readonly("start_loss", &PyLinearFit::start_loss)
        .def_property_readonly("coef", &PyLinearFit::coef)
        .def_property_readonly("intercept", &PyLinearFit::intercept);
}

}  // namespace fastmse
