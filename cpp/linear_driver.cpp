// Blocks and threads around linear_block, and the gradient descent loops of a fit.
#include "linear_driver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "dispatch.hpp"
#include "threads.hpp"

namespace fastmse {
namespace {

template <class T>
auto linear_kernel() {
    if constexpr (std::is_same_v<T, float>) {
        return active_kernels().f32.linear_block;
    } else {
        return active_kernels().f64.linear_block;
    }
}

// Rows per block: about 128 KiB of X in float64, so that a block's rows stay in L2 while the
// next block streams in. At least 16 rows per output keep the k x d partial sums of a block
// small next to its rows. The count depends on the shape alone, which fixes the order of
// every sum.
int64_t block_rows(int64_t d, int64_t k) {
    const int64_t by_size = (int64_t{16384} + d * k - 1) / (d * k);
    return std::max({int64_t{64}, 16 * k, by_size});
}

double squared_norm(const std::vector<double>& v) {
    double sum = 0.0;
    for (double x : v) sum += x * x;
    return sum;
}

// A loss above kGrowth times its starting value has diverged. The margin covers rounding:
// an epoch of tiny mini-batch steps sums the same squares as the starting loss, in
// another order.
constexpr double kGrowth = 1.0 + 1e-9;

// splitmix64: a small, fast generator with a 64-bit state, enough to shuffle rows.
uint64_t next_random(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A uniform integer in [0, bound), without modulo bias (Lemire's multiply and reject).
uint64_t uniform_below(uint64_t& state, uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const unsigned __int128 product =
            static_cast<unsigned __int128>(next_random(state)) * bound;
        if (static_cast<uint64_t>(product) >= threshold) {
            return static_cast<uint64_t>(product >> 64);
        }
    }
}

}  // namespace

template <class T>
void linear_sums(const LinearData<T>& data, const int64_t* index, int64_t first, int64_t count,
                 const double* coef, const double* intercept, std::vector<double>& sums) {
    const int64_t d = data.d, k = data.k;
    const int64_t stride = k * d + k + 1;
    const int64_t rows_per_block = block_rows(d, k);
    const int64_t blocks = std::max<int64_t>(1, (count + rows_per_block - 1) / rows_per_block);
    sums.resize(static_cast<size_t>(blocks * stride));

    const auto kernel = linear_kernel<T>();
    parallel_for(blocks, threads_for(count * d * k), [&](int64_t block) {
        const int64_t begin = block * rows_per_block;
        const LinearRows<T> rows{
            data.x,       d,        data.y,        k,
            data.weights, index,    first + begin, std::min(rows_per_block, count - begin),
            coef,         intercept};
        kernel(rows, sums.data() + block * stride);
    });

    // Pairwise in block order: the sums of block b + step join those of block b.
    for (int64_t step = 1; step < blocks; step *= 2) {
        for (int64_t block = 0; block + step < blocks; block += 2 * step) {
            double* into = sums.data() + block * stride;
            const double* from = into + step * stride;
            for (int64_t j = 0; j < stride; ++j) into[j] += from[j];
        }
    }
}

template <class T>
LinearGradient linear_gradient(const LinearData<T>& data, const double* coef,
                               const double* intercept, double l2) {
    const int64_t d = data.d, k = data.k;
    // Kept between calls: a fresh buffer of this size costs the kernel a page fault and a
    // cleared page every 4 KiB.
    thread_local std::vector<double> sums;
    linear_sums(data, nullptr, 0, data.n, coef, intercept, sums);

    const double scale = 1.0 / (static_cast<double>(k) * data.weight_sum);
    LinearGradient result{sums[k * d + k] * scale, std::vector<double>(k * d),
                          std::vector<double>(k)};
    for (int64_t j = 0; j < k * d; ++j) {
        result.loss += l2 * coef[j] * coef[j];
        result.coef[j] = 2.0 * scale * sums[j] + 2.0 * l2 * coef[j];
    }
    for (int64_t j = 0; j < k; ++j) result.intercept[j] = 2.0 * scale * sums[k * d + j];
    return result;
}

template <class T>
LinearFit<T>::LinearFit(const LinearData<T>& data, const FitOptions& options,
                        std::vector<double> coef, std::vector<double> intercept,
                        std::vector<double> offset)
    : data_(data),
      options_(options),
      coef_(std::move(coef)),
      intercept_(std::move(intercept)),
      offset_(std::move(offset)),
      previous_coef_(coef_),
      previous_intercept_(intercept_),
      best_coef_(coef_),
      best_intercept_(intercept_),
      rng_state_(options.seed),
      best_epoch_loss_(std::numeric_limits<double>::infinity()) {
    if (options_.batch_size > 0 && options_.shuffle) {
        order_.resize(static_cast<size_t>(data_.n));
        std::iota(order_.begin(), order_.end(), int64_t{0});
    }
}

template <class T>
std::vector<double> LinearFit<T>::plain_intercept(const std::vector<double>& coef,
                                                  const std::vector<double>& intercept) const {
    std::vector<double> plain = intercept;
    if (offset_.empty()) return plain;
    const size_t d = offset_.size();
    for (size_t j = 0; j < plain.size(); ++j) {
        for (size_t c = 0; c < d; ++c) plain[j] -= offset_[c] * coef[j * d + c];
    }
    return plain;
}

// With residuals r of the same model, sum r * (x - offset) = sum r * x - offset * sum r.
template <class T>
void LinearFit<T>::center(double* coef_grad, const double* intercept_grad, size_t outputs) const {
    const size_t d = offset_.size();
    for (size_t j = 0; j < outputs && d; ++j) {
        for (size_t c = 0; c < d; ++c) coef_grad[j * d + c] -= offset_[c] * intercept_grad[j];
    }
}

template <class T>
LinearGradient LinearFit<T>::gradient_at(const std::vector<double>& coef,
                                         const std::vector<double>& intercept) const {
    const std::vector<double> plain = plain_intercept(coef, intercept);
    LinearGradient grad = linear_gradient(data_, coef.data(), plain.data(), options_.l2);
    center(grad.coef.data(), grad.intercept.data(), intercept.size());
    return grad;
}

template <class T>
double LinearFit<T>::curvature(int iterations, const std::function<bool()>& interrupted) {
    // Power iterations on H = 2 / W * sum_i w_i * [x_i, 1] [x_i, 1]^T (without the 1 when the
    // intercept is fixed): H v is the gradient of one output with y = 0 at coef = v.
    LinearData<T> zero_target = data_;
    zero_target.y = nullptr;
    zero_target.k = 1;
    const int64_t d = data_.d;
    const double scale = 2.0 / data_.weight_sum;

    // A fixed start with no zero entries: a deterministic fit, and no direction left out.
    std::vector<double> v(d + 1);
    uint64_t state = 12345;
    for (double& x : v) x = 0.5 + static_cast<double>(next_random(state) >> 11) * 0x1p-53;
    if (!options_.fit_intercept) v[d] = 0.0;

    double estimate = 0.0;
    std::vector<double> sums;
    for (int iteration = 0; iteration < iterations; ++iteration) {
        if (interrupted()) return estimate;
        const double norm = std::sqrt(squared_norm(v));
        if (!(norm > 0.0) || !std::isfinite(norm)) break;
        for (double& x : v) x /= norm;

        const std::vector<double> coef(v.begin(), v.begin() + d);
        const std::vector<double> plain = plain_intercept(coef, {v[d]});
        linear_sums(zero_target, nullptr, 0, data_.n, coef.data(), plain.data(), sums);
        center(sums.data(), sums.data() + d, 1);
        double rayleigh = 0.0;
        for (int64_t j = 0; j <= d; ++j) {
            const double hv = (j < d || options_.fit_intercept) ? scale * sums[j] : 0.0;
            rayleigh += v[j] * hv;
            v[j] = hv;
        }

        // The Rayleigh quotient approaches the top eigenvalue from below. A small shortfall
        // is harmless, because a step that raises the loss past its start halves an
        // automatic rate (full_batch_step), so a change below 1e-4 ends the iterations.
        const bool settled = std::fabs(rayleigh - estimate) <= 1e-4 * rayleigh;
        estimate = rayleigh;
        if (settled) break;
    }
    return estimate;
}

template <class T>
double LinearFit<T>::penalty() const {
    return options_.l2 * squared_norm(coef_);
}

template <class T>
void LinearFit<T>::take_step(const double* coef_grad, const double* intercept_grad, double scale,
                             bool add_penalty) {
    const double rate = options_.learning_rate;
    const double penalty = add_penalty ? 2.0 * options_.l2 : 0.0;
    for (size_t j = 0; j < coef_.size(); ++j) {
        coef_[j] -= rate * (scale * coef_grad[j] + penalty * coef_[j]);
    }
    if (options_.fit_intercept) {
        for (size_t j = 0; j < intercept_.size(); ++j) {
            intercept_[j] -= rate * scale * intercept_grad[j];
        }
    }
}

template <class T>
void LinearFit<T>::restore(const std::vector<double>& coef, const std::vector<double>& intercept) {
    coef_ = coef;
    intercept_ = intercept;
    previous_coef_ = coef;
    previous_intercept_ = intercept;
    momentum_t_ = 1.0;
}

// One full-batch step. With momentum, the gradient is taken at Nesterov's look-ahead point
// x + beta * (x - x_previous). beta drops to zero whenever the step points uphill from x
// (O'Donoghue and Candes' adaptive restart). This keeps the speed-up of momentum on
// ill-conditioned data without its oscillations.
template <class T>
StepResult LinearFit<T>::full_batch_step() {
    std::vector<double> point_coef = coef_, point_intercept = intercept_;
    double next_t = 1.0;
    if (options_.momentum) {
        next_t = (1.0 + std::sqrt(1.0 + 4.0 * momentum_t_ * momentum_t_)) / 2.0;
        const double beta = (momentum_t_ - 1.0) / next_t;
        for (size_t j = 0; j < coef_.size(); ++j) {
            point_coef[j] += beta * (coef_[j] - previous_coef_[j]);
        }
        for (size_t j = 0; j < intercept_.size(); ++j) {
            point_intercept[j] += beta * (intercept_[j] - previous_intercept_[j]);
        }
    }

    LinearGradient grad = gradient_at(point_coef, point_intercept);
    if (!options_.fit_intercept) std::fill(grad.intercept.begin(), grad.intercept.end(), 0.0);
    const double grad_norm = std::sqrt(squared_norm(grad.coef) + squared_norm(grad.intercept));
    last_loss_ = grad.loss;
    if (start_loss_ < 0.0) {
        start_loss_ = best_loss_ = grad.loss;
        first_gradient_norm_ = grad_norm;
        // Overflow at the start: no rate can help, and the tolerance test means nothing.
        if (!std::isfinite(grad.loss) || !std::isfinite(grad_norm)) {
            status_ = FitStatus::overflow;
            return StepResult::stopped;
        }
    }

    if (!std::isfinite(grad.loss) || grad.loss > kGrowth * start_loss_) {
        if (!options_.auto_rate) {
            status_ = FitStatus::diverged;
            return StepResult::stopped;
        }
        restore(best_coef_, best_intercept_);
        return halve_rate();
    }
    if (grad.loss <= best_loss_) {
        best_loss_ = grad.loss;
        best_coef_ = point_coef;
        best_intercept_ = point_intercept;
    }
    if (options_.stop_early && grad_norm <= options_.tol * first_gradient_norm_) {
        coef_ = point_coef;
        intercept_ = point_intercept;
        status_ = FitStatus::converged;
        return StepResult::stepped;
    }

    previous_coef_ = coef_;
    previous_intercept_ = intercept_;
    coef_ = point_coef;
    intercept_ = point_intercept;
    take_step(grad.coef.data(), grad.intercept.data(), 1.0, false);  // grad includes l2

    if (options_.momentum) {
        double uphill = 0.0;
        for (size_t j = 0; j < coef_.size(); ++j) {
            uphill += grad.coef[j] * (coef_[j] - previous_coef_[j]);
        }
        for (size_t j = 0; j < intercept_.size(); ++j) {
            uphill += grad.intercept[j] * (intercept_[j] - previous_intercept_[j]);
        }
        momentum_t_ = uphill > 0.0 ? 1.0 : next_t;
    }
    return StepResult::stepped;
}

// One epoch of mini-batch steps over the rows in a fresh random order. Each batch's gradient
// is scaled by n / (batch rows), which makes it an unbiased estimate of the full gradient.
//
// The result is the average of the iterates (Polyak and Juditsky). For least squares with a
// constant rate, the average converges to the minimum (Bach and Moulines, 2013), while the
// last iterate keeps hovering around it at a distance that grows with the rate. The average
// restarts at epochs 1, 2, 4, 8, ..., so it covers the latest half of the epochs or more,
// and the early iterates far from the minimum drop out.
template <class T>
StepResult LinearFit<T>::mini_batch_epoch(const std::function<bool()>& poll) {
    const int64_t n = data_.n, d = data_.d, k = data_.k;
    if (start_loss_ < 0.0) {
        const LinearGradient start = gradient_at(coef_, intercept_);
        start_loss_ = start.loss;
        const double start_norm = squared_norm(start.coef) + squared_norm(start.intercept);
        if (!std::isfinite(start_loss_) || !std::isfinite(start_norm)) {
            status_ = FitStatus::overflow;
            return StepResult::stopped;
        }
    }
    const std::vector<double> start_coef = coef_, start_intercept = intercept_;
    ++epochs_;
    if ((epochs_ & (epochs_ - 1)) == 0) average_count_ = 0;

    if (!order_.empty()) {
        for (int64_t i = n - 1; i > 0; --i) {
            const auto j = static_cast<int64_t>(uniform_below(rng_state_, uint64_t(i) + 1));
            std::swap(order_[i], order_[j]);
        }
    }

    const double norm = 1.0 / (static_cast<double>(k) * data_.weight_sum);
    double loss_sum = 0.0;
    for (int64_t first = 0; first < n; first += options_.batch_size) {
        if (poll()) return StepResult::stopped;
        const int64_t count = std::min(options_.batch_size, n - first);
        const std::vector<double> plain = plain_intercept(coef_, intercept_);
        linear_sums(data_, order_.empty() ? nullptr : order_.data(), first, count, coef_.data(),
                    plain.data(), sums_);
        center(sums_.data(), sums_.data() + k * d, static_cast<size_t>(k));
        loss_sum += sums_[k * d + k];
        const double scale = 2.0 * norm * static_cast<double>(n) / static_cast<double>(count);
        take_step(sums_.data(), sums_.data() + k * d, scale, true);
        add_to_average();
    }

    const double loss = loss_sum * norm + penalty();
    last_loss_ = loss;
    // The epoch's loss is a mean over moving coefficients, so noise can lift it above the
    // start on a healthy fit: the loss over all rows at the current point decides.
    if (!std::isfinite(loss) || (loss > kGrowth * start_loss_ &&
                                 gradient_at(coef_, intercept_).loss > kGrowth * start_loss_)) {
        if (!options_.auto_rate) {
            status_ = FitStatus::diverged;
            return StepResult::stopped;
        }
        restore(start_coef, start_intercept);
        average_count_ = 0;
        return halve_rate();
    }

    if (options_.stop_early) {
        const bool improved = loss < best_epoch_loss_ - options_.tol * best_epoch_loss_;
        stalled_epochs_ = improved ? 0 : stalled_epochs_ + 1;
        best_epoch_loss_ = std::min(best_epoch_loss_, loss);
        if (stalled_epochs_ >= options_.n_iter_no_change) status_ = FitStatus::converged;
    }
    return StepResult::stepped;
}

// Halves an automatic rate for a retry. A rate halved this often is a sign of data
// that no rate fits (such as gradients that overflow on the way), so the fit ends.
template <class T>
StepResult LinearFit<T>::halve_rate() {
    constexpr int kMaxHalvings = 64;
    options_.learning_rate /= 2.0;
    if (++halvings_ <= kMaxHalvings) return StepResult::retried;
    status_ = FitStatus::diverged;
    return StepResult::stopped;
}

template <class T>
void LinearFit<T>::add_to_average() {
    if (average_count_ == 0) {
        average_coef_ = coef_;
        average_intercept_ = intercept_;
        average_count_ = 1;
        return;
    }
    const double share = 1.0 / static_cast<double>(++average_count_);
    for (size_t j = 0; j < coef_.size(); ++j) {
        average_coef_[j] += share * (coef_[j] - average_coef_[j]);
    }
    for (size_t j = 0; j < intercept_.size(); ++j) {
        average_intercept_[j] += share * (intercept_[j] - average_intercept_[j]);
    }
}

template <class T>
void LinearFit<T>::run(int64_t epochs, std::vector<double>& losses,
                       const std::function<bool()>& interrupted) {
    // Asking Python for signals takes the GIL, so it happens every few milliseconds at most.
    using Clock = std::chrono::steady_clock;
    auto last_poll = Clock::now();
    const std::function<bool()> poll = [&] {
        const auto now = Clock::now();
        if (now - last_poll < std::chrono::milliseconds(5)) return false;
        last_poll = now;
        return interrupted();
    };

    for (int64_t epoch = 0; epoch < epochs && status_ == FitStatus::running; ++epoch) {
        if (poll()) return;
        const StepResult result =
            options_.batch_size <= 0 ? full_batch_step() : mini_batch_epoch(poll);
        if (result == StepResult::stepped) losses.push_back(last_loss_);
        if (result == StepResult::stopped) return;
    }
}

template void linear_sums(const LinearData<float>&, const int64_t*, int64_t, int64_t, const double*,
                          const double*, std::vector<double>&);
template void linear_sums(const LinearData<double>&, const int64_t*, int64_t, int64_t,
                          const double*, const double*, std::vector<double>&);
template LinearGradient linear_gradient(const LinearData<float>&, const double*, const double*,
                                        double);
template LinearGradient linear_gradient(const LinearData<double>&, const double*, const double*,
                                        double);
template class LinearFit<float>;
template class LinearFit<double>;

}  // namespace fastmse
