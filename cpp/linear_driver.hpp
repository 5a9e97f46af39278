// Linear regression by gradient descent on the MSE: the gradient over many rows, and the fit.
//
// The model has k outputs: prediction_j = x . coef_j + intercept_j for a row x of d values.
// Its loss is the MSE over all n * k predictions, weighted per row, plus l2 * ||coef||**2:
//
//     loss = sum_i w_i sum_j r_ij**2 / (k * sum_i w_i) + l2 * sum_j ||coef_j||**2
//
// with r_ij = prediction_j(x_i) - y_ij. Coefficients are kept in double, output-major (k x d).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels.hpp"

namespace fastmse {

// A problem's data: X (n x d, C-contiguous), y (n x k, C-contiguous; null for zeros) and the
// row weights (null for ones) whose sum is weight_sum.
template <class T>
struct LinearData {
    const T* x;
    int64_t n;
    int64_t d;
    const T* y;
    int64_t k;
    const T* weights;
    double weight_sum;
};

// The loss and its gradient at one point.
struct LinearGradient {
    double loss;
    std::vector<double> coef;       // k x d
    std::vector<double> intercept;  // k
};

// The raw sums of linear_block (kernels.hpp) over `count` rows: rows index[first + i], or
// first + i when index is null. Blocks of rows run on threads and add up pairwise in block
// order, so the sums depend on the rows alone, never on the thread count. The k * d + k + 1
// sums are the first values of `sums`, which also holds the blocks' partial sums after them.
template <class T>
void linear_sums(const LinearData<T>& data, const int64_t* index, int64_t first, int64_t count,
                 const double* coef, const double* intercept, std::vector<double>& sums);

// The loss and gradient over all rows, for l2 and the given coefficients.
template <class T>
LinearGradient linear_gradient(const LinearData<T>& data, const double* coef,
                               const double* intercept, double l2);

struct FitOptions {
    double learning_rate = 0.0;
    // The rate was chosen by fastmse: a step that makes the loss diverge halves it and is
    // retried, where a user's rate ends the fit.
    bool auto_rate = false;
    double l2 = 0.0;
    bool fit_intercept = true;
    int64_t batch_size = 0;  // 0: full batches
    bool shuffle = true;
    uint64_t seed = 0;
    double tol = 0.0;
    int n_iter_no_change = 5;
    // Nesterov momentum for full batches, restarted whenever the step turns uphill.
    bool momentum = false;
    // Stop on tol (and, for mini-batches, on a stalled loss); off for partial fits.
    bool stop_early = true;
};

// overflow: the loss or its gradient is not finite at the starting point.
enum class FitStatus { running, converged, diverged, overflow };

// The outcome of one epoch: its steps taken, its steps undone to retry with a smaller rate,
// or the fit stopped (diverged, or interrupted mid-epoch).
enum class StepResult { stepped, retried, stopped };

// Gradient descent on one problem. Holds the coefficients between calls of run, so a fit can
// run in parts (for a progress bar) and stop early.
template <class T>
class LinearFit {
  public:
    // With an `offset` of d values (else empty), the fit runs on the centered rows
    // x - offset, with `intercept` fixed as the centered model's intercepts; coef() and
    // intercept() still describe the model on x. Centering decouples the intercept from
    // the coefficients, whose curvature then no longer depends on the features' means.
    LinearFit(const LinearData<T>& data, const FitOptions& options, std::vector<double> coef,
              std::vector<double> intercept, std::vector<double> offset);

    // The largest curvature of the data term for one output: the top eigenvalue of its
    // Hessian, estimated with at most `iterations` power iterations (one pass over X
    // each). Stops early, returning the estimate so far, when `interrupted` returns true.
    double curvature(int iterations, const std::function<bool()>& interrupted);

    // Runs up to `epochs` epochs and appends each epoch's loss to `losses`; a full-batch
    // epoch is one step. Stops early when the fit converges or diverges (see status).
    // `interrupted` is polled every few milliseconds; when it returns true, run returns with
    // the coefficients of the last completed step.
    void run(int64_t epochs, std::vector<double>& losses, const std::function<bool()>& interrupted);

    FitStatus status() const { return status_; }
    double learning_rate() const { return options_.learning_rate; }
    void set_learning_rate(double rate) { options_.learning_rate = rate; }
    // The loss that ended the fit as diverged, or the last epoch's loss.
    double last_loss() const { return last_loss_; }
    // The loss at the starting point, once the first epoch has computed it.
    double start_loss() const { return start_loss_; }
    // The result: for mini-batches the average of the iterates since the last restart of
    // the average (see mini_batch_epoch), else the current point.
    const std::vector<double>& coef() const { return average_count_ ? average_coef_ : coef_; }
    std::vector<double> intercept() const {
        return plain_intercept(coef(), average_count_ ? average_intercept_ : intercept_);
    }

  private:
    // The intercepts of the model on uncentered rows (see the constructor).
    std::vector<double> plain_intercept(const std::vector<double>& coef,
                                        const std::vector<double>& intercept) const;
    // Turns the gradient sums of `outputs` outputs on uncentered rows into those on
    // centered rows.
    void center(double* coef_grad, const double* intercept_grad, size_t outputs) const;
    LinearGradient gradient_at(const std::vector<double>& coef,
                               const std::vector<double>& intercept) const;
    StepResult full_batch_step();
    StepResult mini_batch_epoch(const std::function<bool()>& poll);
    double penalty() const;
    // Moves against scale * grad, plus the l2 term when add_penalty, at the current rate.
    void take_step(const double* coef_grad, const double* intercept_grad, double scale,
                   bool add_penalty);
    void restore(const std::vector<double>& coef, const std::vector<double>& intercept);
    void add_to_average();
    StepResult halve_rate();

    LinearData<T> data_;
    FitOptions options_;
    std::vector<double> coef_, intercept_, offset_;
    FitStatus status_ = FitStatus::running;
    double start_loss_ = -1.0;  // the loss before the first step; negative until known
    double last_loss_ = 0.0;

    // Full batches: Nesterov's state, and the best point seen for a restart after divergence.
    std::vector<double> previous_coef_, previous_intercept_;
    std::vector<double> best_coef_, best_intercept_;
    double best_loss_ = 0.0;
    int halvings_ = 0;
    double momentum_t_ = 1.0;
    double first_gradient_norm_ = -1.0;

    // Mini-batches: the permutation, the generator's state and the stall counter.
    std::vector<int64_t> order_;
    uint64_t rng_state_;
    double best_epoch_loss_ = 0.0;
    int stalled_epochs_ = 0;
    std::vector<double> average_coef_, average_intercept_;
    int64_t average_count_ = 0;
    int64_t epochs_ = 0;

    std::vector<double> sums_;  // linear_sums' output, kept to avoid reallocating each step
};

}  // namespace fastmse
