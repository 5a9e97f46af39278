// Checks, without Python, every kernel of every SIMD target that is built and that this CPU
// runs against a long double reference: tail lengths around every vector width, misaligned
// starts, weights, the three losses, in-place outputs, and identical sums from reduce and
// map; chunks reduced in one call or in parts; the double-double sums; and the linear
// model's block kernel.
// Exits non-zero on failure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../dispatch.hpp"
#include "../kernels.hpp"

namespace {

int g_failures = 0;

void expect(bool ok, const std::string& what) {
    if (!ok) {
        ++g_failures;
        std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    }
}

template <class T>
T* align64(T* p) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<T*>((address + 63) / 64 * 64);
}

bool close(double got, long double expected, double tolerance) {
    const long double error = std::fabs(static_cast<long double>(got) - expected);
    return error <= tolerance * std::fabs(expected) + 1e-300L;
}

template <class T>
void check_target(const fastmse::KernelTable& table, const fastmse::KernelSet<T>& set,
                  const char* dtype) {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> uniform(0.0, 2.0);
    const std::vector<int64_t> lengths = {1,   2,   3,   7,    8,    9,    15,   16,  17,
                                          31,  32,  33,  63,   64,   65,   255,  256, 257,
                                          511, 512, 513, 1023, 1025, 4097, 8191, 8192};
    for (int64_t n : lengths) {
        for (int offset = 0; offset < 3; ++offset) {
            std::vector<T> t(n + offset), p(n + offset), w(n + offset), out(n + offset + 64);
            long double squares = 0, weighted = 0, weights = 0, absolute = 0, huber = 0;
            const double delta = 0.75;
            for (int64_t i = 0; i < n; ++i) {
                t[i + offset] = static_cast<T>(normal(rng));
                p[i + offset] = static_cast<T>(normal(rng));
                w[i + offset] = static_cast<T>(uniform(rng));
                const long double d = static_cast<long double>(p[i + offset]) - t[i + offset];
                squares += d * d;
                weighted += w[i + offset] * d * d;
                const long double a = std::fabs(d);
                absolute += a;
                huber += a <= delta ? a * a / 2 : delta * (a - delta / 2);
                weights += w[i + offset];
            }
            const T* tp = t.data() + offset;
            const T* pp = p.data() + offset;
            const T* wp = w.data() + offset;
            const std::string where = std::string(table.name) + " " + dtype +
                                      " n=" + std::to_string(n) +
                                      " offset=" + std::to_string(offset);

            const fastmse::Sums plain = set.reduce(fastmse::Loss::squared, 0.0, tp, pp, nullptr, n);
            expect(close(plain.squares, squares, 1e-14), where + " reduce");
            expect(plain.weights == 0.0, where + " unweighted weight sum");
            expect(plain.min_weight == 0.0, where + " unweighted smallest weight");

            const fastmse::Sums with = set.reduce(fastmse::Loss::squared, 0.0, tp, pp, wp, n);
            expect(close(with.squares, weighted, 1e-14), where + " weighted reduce");
            expect(close(with.weights, weights, 1e-14), where + " weight sum");
            expect(with.min_weight == 0.0, where + " smallest weight");
            expect(set.sum_weights(wp, n).weights == with.weights, where + " sum_weights");

            const fastmse::Sums l1 = set.reduce(fastmse::Loss::absolute, delta, tp, pp, nullptr, n);
            expect(close(l1.squares, absolute, 1e-14), where + " absolute reduce");
            const fastmse::Sums hl = set.reduce(fastmse::Loss::huber, delta, tp, pp, nullptr, n);
            expect(close(hl.squares, huber, 1e-14), where + " huber reduce");
            // The conversion width changes the instructions only, never the sums.
            for (fastmse::Loss loss :
                 {fastmse::Loss::squared, fastmse::Loss::absolute, fastmse::Loss::huber}) {
                for (const T* weights : {static_cast<const T*>(nullptr), wp}) {
                    const fastmse::Sums before = set.reduce(loss, delta, tp, pp, weights, n);
                    fastmse::set_split_conversions(!fastmse::split_conversions());
                    const fastmse::Sums after = set.reduce(loss, delta, tp, pp, weights, n);
                    fastmse::set_split_conversions(!fastmse::split_conversions());
                    const std::string label = where + " loss " +
                                              std::to_string(static_cast<int>(loss)) +
                                              (weights ? " weighted" : "") + ", conversion width";
                    expect(before.squares == after.squares, label);
                    expect(before.weights == after.weights, label + " weight sum");
                    expect(before.min_weight == after.min_weight, label + " smallest weight");
                }
            }
            std::vector<T> slopes(n);
            set.map(fastmse::MapOp::gradient, fastmse::Loss::huber, delta, tp, pp, nullptr, 1.0,
                    slopes.data(), n, false);
            for (int64_t i = 0; i < n; ++i) {
                const double d = static_cast<double>(pp[i]) - tp[i];
                const double clipped = d < -delta ? -delta : (d > delta ? delta : d);
                if (static_cast<T>(clipped) != slopes[i]) {
                    expect(false, where + " huber slope " + std::to_string(i));
                    break;
                }
            }
            set.map(fastmse::MapOp::gradient, fastmse::Loss::absolute, delta, tp, pp, nullptr, 1.0,
                    slopes.data(), n, false);
            for (int64_t i = 0; i < n; ++i) {
                const double d = static_cast<double>(pp[i]) - tp[i];
                const T sign = static_cast<T>((d > 0) - (d < 0));
                if (sign != slopes[i]) {
                    expect(false, where + " absolute slope " + std::to_string(i));
                    break;
                }
            }

            for (bool stream : {false, true}) {
                const double scale = 2.0 / static_cast<double>(n);
                // Streaming stores need 64-byte alignment: offset 0 starts on a 64-byte line.
                T* op = align64(out.data()) + offset;
                const bool aligned = offset == 0;
                const fastmse::Sums mapped =
                    set.map(fastmse::MapOp::gradient, fastmse::Loss::squared, 0.0, tp, pp, nullptr,
                            scale, op, n, stream && aligned);
                expect(mapped.squares == plain.squares, where + " map sum equals reduce");
                for (int64_t i = 0; i < n; ++i) {
                    const double expected = scale * (static_cast<double>(pp[i]) - tp[i]);
                    if (static_cast<T>(expected) != op[i]) {
                        expect(false, where + " gradient element " + std::to_string(i));
                        break;
                    }
                }
            }

            std::vector<T> in_place(p);
            T* ip = in_place.data() + offset;
            set.map(fastmse::MapOp::loss, fastmse::Loss::squared, 0.0, tp, ip, nullptr, 1.0, ip, n,
                    false);
            for (int64_t i = 0; i < n; ++i) {
                const double d = static_cast<double>(pp[i]) - tp[i];
                if (static_cast<T>(d * d) != ip[i]) {
                    expect(false, where + " in-place squared error " + std::to_string(i));
                    break;
                }
            }
        }
    }

    // A negative weight shows in the smallest weight wherever it is, and a NaN or infinite
    // one in the weight sum.
    const std::vector<T> ones(100, T(1));
    std::vector<T> bad(ones);
    const bool split_before = fastmse::split_conversions();
    for (int i = 0; i < 100; ++i) {
        bad[i] = T(-2);
        const std::string at = std::string(table.name) + " negative weight at " + std::to_string(i);
        expect(set.sum_weights(bad.data(), 100).min_weight == -2.0, at + " by sum_weights");
        for (bool split : {false, true}) {
            fastmse::set_split_conversions(split);
            const fastmse::Sums sums =
                set.reduce(fastmse::Loss::absolute, 0.0, ones.data(), ones.data(), bad.data(), 100);
            expect(sums.min_weight == -2.0, at + " by reduce");
        }
        bad[i] = T(1);
    }
    fastmse::set_split_conversions(split_before);
    bad[57] = static_cast<T>(NAN);
    expect(std::isnan(set.sum_weights(bad.data(), 100).weights),
           std::string(table.name) + " NaN weight found");
    bad[57] = static_cast<T>(INFINITY);
    expect(std::isinf(set.sum_weights(bad.data(), 100).weights),
           std::string(table.name) + " infinite weight found");
}

// linear_block against long double sums, for every row length around the vector widths
// and both of the kernel's paths (one output with short rows; long rows or k outputs),
// with weights, a row index (mini-batches) and no targets (power iterations).
template <class T>
void check_linear(const fastmse::KernelTable& table, const fastmse::KernelSet<T>& set,
                  const char* dtype) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    for (int64_t d : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 65}) {
        for (int64_t k : {1, 3}) {
            for (int64_t count : {1, 3, 4, 5, 11}) {
                const int64_t n = count + 3;
                std::vector<T> x(n * d), y(n * k), w(n);
                std::vector<double> coef(k * d), intercept(k), sums(k * d + k + 1);
                for (T& v : x) v = static_cast<T>(normal(rng));
                for (T& v : y) v = static_cast<T>(normal(rng));
                for (T& v : w) v = static_cast<T>(1.0 + normal(rng) * normal(rng));
                for (double& v : coef) v = normal(rng);
                for (double& v : intercept) v = normal(rng);
                std::vector<int64_t> index(n);
                for (int64_t i = 0; i < n; ++i) index[i] = (i * 5 + 2) % n;

                for (int variant = 0; variant < 3; ++variant) {
                    const bool indexed = variant == 1, targets = variant != 2;
                    const fastmse::LinearRows<T> rows{x.data(),
                                                      d,
                                                      targets ? y.data() : nullptr,
                                                      k,
                                                      w.data(),
                                                      indexed ? index.data() : nullptr,
                                                      1,
                                                      count,
                                                      coef.data(),
                                                      intercept.data()};
                    set.linear_block(rows, sums.data());

                    std::vector<long double> expected(k * d + k + 1, 0.0L);
                    for (int64_t i = 0; i < count; ++i) {
                        const int64_t row = indexed ? index[1 + i] : 1 + i;
                        for (int64_t j = 0; j < k; ++j) {
                            long double r = intercept[j];
                            for (int64_t c = 0; c < d; ++c) {
                                r += static_cast<long double>(x[row * d + c]) * coef[j * d + c];
                            }
                            if (targets) r -= y[row * k + j];
                            const long double weighted = w[row] * r;
                            for (int64_t c = 0; c < d; ++c) {
                                expected[j * d + c] += weighted * x[row * d + c];
                            }
                            expected[k * d + j] += weighted;
                            expected[k * d + k] += weighted * r;
                        }
                    }
                    long double scale = 0;
                    for (long double v : expected) scale = std::fmax(scale, std::fabs(v));
                    bool ok = true;
                    for (size_t j = 0; j < expected.size(); ++j) {
                        ok = ok && std::fabs(sums[j] - expected[j]) <= 1e-13L * scale;
                    }
                    expect(ok, std::string(table.name) + " " + dtype +
                                   " linear_block d=" + std::to_string(d) +
                                   " k=" + std::to_string(k) + " rows=" + std::to_string(count) +
                                   " variant=" + std::to_string(variant));
                }
            }
        }
    }
}

// Kahan's compensated sum in long double: off by about 2**-63 of the sum, whatever n.
struct KahanSum {
    long double sum = 0, lost = 0;
    void add(long double x) {
        const long double y = x - lost;
        const long double t = sum + y;
        lost = (t - sum) - y;
        sum = t;
    }
};

// reduce_exact against compensated long double sums: within 1e-18 of them, far below
// float64's 1.1e-16 resolution, with and without weights, for every tail.
template <class T>
void check_exact(const fastmse::KernelTable& table, const fastmse::KernelSet<T>& set,
                 const char* dtype) {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal;
    for (int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 100, 1000, 8192}) {
        std::vector<T> t(n), p(n), w(n);
        KahanSum squares, weighted, weights;
        for (int64_t i = 0; i < n; ++i) {
            t[i] = static_cast<T>(1e4 + normal(rng));
            p[i] = static_cast<T>(t[i] + normal(rng) * 1e-3);
            w[i] = static_cast<T>(std::fabs(normal(rng)));
            const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
            squares.add(d * d);
            weighted.add((static_cast<double>(w[i]) * d) * d);
            weights.add(w[i]);
        }
        const fastmse::ExactSums plain = set.reduce_exact(t.data(), p.data(), nullptr, n);
        const fastmse::ExactSums with = set.reduce_exact(t.data(), p.data(), w.data(), n);
        const std::string what =
            std::string(table.name) + " " + dtype + " reduce_exact n=" + std::to_string(n);
        auto near = [](double hi, double lo, long double expected) {
            const long double got = static_cast<long double>(hi) + lo;
            return std::fabs(got - expected) <= 1e-18L * expected;
        };
        expect(near(plain.squares_hi, plain.squares_lo, squares.sum), what);
        expect(near(with.squares_hi, with.squares_lo, weighted.sum), what + " weighted");
        expect(near(with.weights_hi, with.weights_lo, weights.sum), what + " weights");
    }
}

bool same_sums(const fastmse::Sums& a, const fastmse::Sums& b) {
    auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
    return same(a.squares, b.squares) && same(a.weights, b.weights) &&
           same(a.min_weight, b.min_weight);
}

// reduce_pieces must give reduce's sums for each chunk or row, and a chunk whose leaves are stored
// in parts by store_leaves must give them through sum_stored_leaves.
template <class T>
void check_chunk_parts(const fastmse::KernelTable& table, const fastmse::KernelSet<T>& set,
                       const char* dtype) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    const int64_t leaf = set.leaf_size, chunk = fastmse::kChunk;
    for (int64_t n : {int64_t{1}, leaf - 1, leaf + 3, chunk, 3 * chunk + leaf + 5}) {
        std::vector<T> t(n), p(n), w(n);
        for (int64_t i = 0; i < n; ++i) {
            t[i] = static_cast<T>(normal(rng));
            p[i] = static_cast<T>(normal(rng) * 2);
            w[i] = static_cast<T>(std::fabs(normal(rng)));
        }
        const int64_t chunks = (n + chunk - 1) / chunk;
        for (fastmse::Loss loss :
             {fastmse::Loss::squared, fastmse::Loss::absolute, fastmse::Loss::huber}) {
            const T* const weight_options[] = {nullptr, w.data()};
            for (const T* weights : weight_options) {
                const std::string base = std::string(table.name) + " " + dtype +
                                         " chunk parts n=" + std::to_string(n) +
                                         " loss=" + std::to_string(static_cast<int>(loss)) +
                                         (weights != nullptr ? " weighted" : "");
                // Prefetching, which the driver requests by input size, must not change a sum.
                for (bool prefetch : {false, true}) {
                    const std::string label = base + (prefetch ? " prefetch" : "");
                    // Rows of 7 and 1000 elements, as reduce_rows passes them.
                    for (int64_t row : {int64_t{7}, int64_t{1000}}) {
                        std::vector<fastmse::Sums> rows((n + row - 1) / row);
                        set.reduce_pieces(loss, 0.5, t.data(), p.data(), weights, n, row,
                                          prefetch, rows.data());
                        for (size_t r = 0; r < rows.size(); ++r) {
                            const int64_t begin = r * row, size = std::min(row, n - begin);
                            const fastmse::Sums expected =
                                set.reduce(loss, 0.5, t.data() + begin, p.data() + begin,
                                           weights != nullptr ? weights + begin : nullptr, size);
                            expect(same_sums(rows[r], expected),
                                   label + " rows of " + std::to_string(row));
                        }
                    }

                    std::vector<fastmse::Sums> sums(chunks);
                    set.reduce_pieces(loss, 0.5, t.data(), p.data(), weights, n, chunk, prefetch,
                                      sums.data());
                    for (int64_t c = 0; c < chunks; ++c) {
                        const int64_t begin = c * chunk, size = std::min(chunk, n - begin);
                        const T* chunk_weights = weights != nullptr ? weights + begin : nullptr;
                        const fastmse::Sums expected = set.reduce(
                            loss, 0.5, t.data() + begin, p.data() + begin, chunk_weights, size);
                        expect(same_sums(sums[c], expected), label + " reduce_pieces");

                        // The chunk in two parts, cut after its first leaf.
                        const int64_t leaves = (size + leaf - 1) / leaf;
                        const int64_t cut = std::min(leaf, size);
                        std::vector<double> stored(leaves * set.leaf_doubles);
                        set.store_leaves(loss, 0.5, t.data() + begin, p.data() + begin,
                                         chunk_weights, cut, prefetch, stored.data());
                        set.store_leaves(loss, 0.5, t.data() + begin + cut,
                                         p.data() + begin + cut,
                                         weights != nullptr ? chunk_weights + cut : nullptr,
                                         size - cut, prefetch, stored.data() + set.leaf_doubles);
                        const fastmse::Sums parts = set.sum_stored_leaves(stored.data(), leaves);
                        expect(same_sums(parts, expected), label + " store_leaves");
                    }
                }
            }
        }
    }
}

// A weighted gradient whose w * slope overflows, although scale * w * slope does not: the
// kernel must not return infinity. 11 elements use whole and partial vectors on every target.
void check_gradient_overflow(const fastmse::KernelTable& table) {
    const int64_t n = 11;
    std::vector<double> t(n, 0.0), p(n, 1e308), w(n, 2.0), out(n);
    for (fastmse::Loss loss : {fastmse::Loss::squared, fastmse::Loss::huber}) {
        // Squared: 2 * 2 * 1e308 / (2 * n). Huber with delta 1e308: 2 * 1e308 / (2 * n).
        const double scale = (loss == fastmse::Loss::squared ? 2.0 : 1.0) / (2.0 * n);
        table.f64.map(fastmse::MapOp::gradient, loss, 1e308, t.data(), p.data(), w.data(), scale,
                      out.data(), n, false);
        const double expected = scale * 2.0 * 1e308;
        for (int64_t i = 0; i < n; ++i) {
            expect(close(out[i], expected, 1e-15),
                   std::string(table.name) + " gradient overflow loss=" +
                       std::to_string(static_cast<int>(loss)) + " i=" + std::to_string(i));
        }
    }
}

void check(const fastmse::KernelTable& table) {
    check_target(table, table.f32, "float32");
    check_target(table, table.f64, "float64");
    check_linear(table, table.f32, "float32");
    check_linear(table, table.f64, "float64");
    check_exact(table, table.f32, "float32");
    check_exact(table, table.f64, "float64");
    check_chunk_parts(table, table.f32, "float32");
    check_chunk_parts(table, table.f64, "float64");
    check_gradient_overflow(table);
    std::printf("checked %s\n", table.name);
}

}  // namespace

int main() {
    for (const std::string& name : fastmse::supported_targets()) {
        fastmse::use_target(name);
        check(fastmse::active_kernels());
    }
    std::printf("%d failed\n", g_failures);
    return g_failures == 0 ? 0 : 1;
}
