// unified-ad's fused CPU kernels, registered as TensorFlow ops through TensorFlow's C kernel API (tensorflow/c/
// kernels.h, ops.h), so that tfjs-node's eager executor runs them like any other op (binding.executeOp by name).
//
// Why: in a transformer training step on a 2-core CPU, the float32 element-wise work around the matrix products
// (layer normalisation and its gradient, the masked softmax of every attention map and its gradient, dropout) is
// dozens of separate TensorFlow kernels, each a full pass over memory. Each op here is one pass.
//
//   UadLayerNorm(x, gamma, beta; epsilon)          -> y, mean, rstd          over the last axis
//   UadLayerNormGrad(dy, x, mean, rstd, gamma)     -> dx, dgamma, dbeta
//   UadMaskedSoftmax(scores, mask, seed; thr)      -> y = softmax(scores + mask), out = y * keep
//   UadMaskedSoftmaxGrad(dout, y, seed; thr)       -> dscores = y * (g - sum(g * y)), g = dout * keep
//   UadDropout(x, seed; thr, scale)                -> x * keep * scale
//   UadKeepMask(like, seed; thr)                   -> keep (bool, like's shape)
// keep: the dropout decisions, hashed from (seed, element index) with P(keep) = 1 - thr / 256 (KeepAt below).
//   UadResidualLayerNorm(x, h, bias, seed, γ, β)  -> LayerNorm(x + dropout(h + bias)), z, mean, rstd; and its Grad
//   UadBiasReluDropout(h, bias, seed)              -> dropout(relu(h + bias)); and its Grad
//   UadSplitHeads(x[B,T,H*hd], bias; heads, scale) -> [B, H, T, hd] of (x + bias) * scale
//   UadMergeHeads(x[B,H,T,hd]; heads, scale, sum)  -> [B, T, H*hd] of scale * x, and its column sums when `sum`
//   UadAdamStep(coef, m, v, params[N], grads[N])   -> m1, v1, params1[N]     one Adam / AdamW step of a group
//   UadSumSquares(x[N])                            -> sum of x*x over all     the squared global gradient norm
//   UadMatMulBf16(a, b, bias; views)               -> alpha * A.B (+ bias) (relu) in bfloat16 products, over strided
//                                                     views (section "bfloat16 matrix products"; AVX512-BF16 builds only)
//   UadAttentionBf16(q, k, v, mask, seed; views)   -> the whole attention per head, P kept only for the gradient
// `mask` ([Tq, Tk], additive, broadcast over the leading axes) and `seed` (int32 [2]) may be empty tensors (shape [0])
// for none. Everything is float32. Compiled without FMA contraction (-ffp-contract=off).
//
// Determinism: work is split into fixed chunks of rows whatever the thread count, and the column sums of the
// LayerNorm gradient are added chunk by chunk in order, so results do not depend on TF_NUM_INTRAOP_THREADS.
// Threads: TF_NUM_INTRAOP_THREADS when set (as TensorFlow itself), else the hardware's.
//
// Loaded as a Node addon (N-API): loading it registers the ops; `ops()` lists them.
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__AVX512BF16__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define UAD_BF16_GEMM 1  // the bfloat16 products (UadMatMulBf16): only where the compiler targets AVX512-BF16
#endif

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

namespace {

// ---------------------------------------------------------------------------------------------------------------
// A small persistent thread pool: run(n, f) calls f(0..n-1), the caller taking part. Kernels come in quick
// succession (hundreds per training step), so a worker spins a little (kSpinUs) for the next job before it sleeps,
// and the caller spins for the workers to finish before it sleeps: a futex sleep and wake-up per kernel cost more
// than a small product.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class Pool {
 public:
  explicit Pool(int n) : size_(std::max(1, n)) {
    for (int i = 1; i < size_; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_.store(true);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Run(int n, const std::function<void(int)>& f) {
    std::unique_lock<std::mutex> busy(run_m_, std::try_to_lock);
    if (size_ <= 1 || n <= 1 || !busy.owns_lock()) {
      for (int i = 0; i < n; ++i) f(i);
      return;
    }
    job_ = &f;
    tasks_ = n;
    next_.store(0);
    active_.store(size_ - 1);
    {
      std::lock_guard<std::mutex> lk(m_);
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    Work();
    if (!SpinUntil([&] { return active_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lk(m_);
      done_.wait(lk, [&] { return active_.load() == 0; });
    }
    job_ = nullptr;
  }

 private:
  static constexpr int64_t kSpinUs = 50;
  /** spins up to kSpinUs for `ready`; true when it came */
  template <typename Ready>
  static bool SpinUntil(Ready ready) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinUs);
    for (int i = 0;; ++i) {
      if (ready()) return true;
      CpuRelax();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return ready();
    }
  }
  void Work() {
    for (int t; (t = next_.fetch_add(1)) < tasks_;) (*job_)(t);
  }
  void Loop() {
    uint64_t seen = 0;
    for (;;) {
      if (!SpinUntil([&] { return stop_.load() || gen_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_.load() || gen_.load() != seen; });
      }
      if (stop_.load()) return;
      seen = gen_.load(std::memory_order_acquire);
      Work();
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(m_);
        done_.notify_all();
      }
    }
  }
  int size_;
  std::vector<std::thread> threads_;
  std::mutex m_, run_m_;
  std::condition_variable cv_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> active_{0};
  std::atomic<uint64_t> gen_{0};
  std::atomic<bool> stop_{false};
};

int PoolSize() {
  const char* e = std::getenv("TF_NUM_INTRAOP_THREADS");
  int n = e && *e ? std::atoi(e) : 0;
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return std::min(std::max(n, 1), 64);
}

Pool& ThePool() {
  static Pool* pool = new Pool(PoolSize());  // never destroyed: TF may run kernels until exit
  return *pool;
}

/** f(begin, end) over [0, rows) in chunks of `chunk` rows (fixed, independent of the thread count). */
void ForRows(int64_t rows, int64_t chunk, const std::function<void(int64_t, int64_t, int64_t)>& f) {
  const int64_t n = (rows + chunk - 1) / chunk;
  ThePool().Run(static_cast<int>(n), [&](int c) { f(c, c * chunk, std::min(rows, (c + 1) * chunk)); });
}

/** Rows per chunk: about 64 K elements each. */
int64_t ChunkRows(int64_t cols) { return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(cols, 1)); }

/**
 * Column sums of a [rows, cols] computation done by ForRows in chunks of ChunkRows(cols): `k` partial arrays of `cols`
 * per chunk, each filled by the one thread that ran the chunk, then added chunk by chunk in order (SumInto), so the
 * result does not depend on the thread count.
 */
class ChunkSums {
 public:
  ChunkSums(int64_t rows, int64_t cols, int k)
      : chunk_(ChunkRows(cols)), chunks_((rows + chunk_ - 1) / chunk_), cols_(cols), k_(k),
        part_(static_cast<size_t>(chunks_ * k * cols), 0.0f) {}
  /** rows per chunk (pass to ForRows) */
  int64_t chunk() const { return chunk_; }
  /** partial sum array i of chunk c */
  float* Part(int64_t c, int i) { return part_.data() + (c * k_ + i) * cols_; }
  /** out = the sum over chunks, in chunk order, of partial array i */
  void SumInto(int i, float* out) const {
    std::memset(out, 0, cols_ * sizeof(float));
    for (int64_t c = 0; c < chunks_; ++c) {
      const float* pc = part_.data() + (c * k_ + i) * cols_;
      for (int64_t j = 0; j < cols_; ++j) out[j] += pc[j];
    }
  }

 private:
  int64_t chunk_, chunks_, cols_;
  int k_;
  std::vector<float> part_;
};

// ---------------------------------------------------------------------------------------------------------------
// Kernel plumbing

/** A TF_Status owned by a scope (every kernel and constructor needs one). */
struct Status {
  TF_Status* s = TF_NewStatus();
  Status() = default;
  Status(const Status&) = delete;
  Status& operator=(const Status&) = delete;
  ~Status() { TF_DeleteStatus(s); }
  operator TF_Status*() const { return s; }
};

struct Inputs {
  std::vector<TF_Tensor*> t;
  ~Inputs() {
    for (auto* x : t) TF_DeleteTensor(x);
  }
};

bool GetInputs(TF_OpKernelContext* ctx, int n, Inputs* in, TF_Status* s) {
  for (int i = 0; i < n; ++i) {
    TF_Tensor* t = nullptr;
    TF_GetInput(ctx, i, &t, s);
    if (TF_GetCode(s) != TF_OK) {
      TF_OpKernelContext_Failure(ctx, s);
      return false;
    }
    in->t.push_back(t);
  }
  return true;
}

std::vector<int64_t> Dims(const TF_Tensor* t) {
  std::vector<int64_t> d(TF_NumDims(t));
  for (size_t i = 0; i < d.size(); ++i) d[i] = TF_Dim(t, static_cast<int>(i));
  return d;
}

TF_Tensor* Alloc(TF_OpKernelContext* ctx, int i, const std::vector<int64_t>& dims, TF_Status* s) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  TF_Tensor* t = TF_AllocateOutput(ctx, i, TF_FLOAT, dims.data(), static_cast<int>(dims.size()), n * sizeof(float), s);
  if (TF_GetCode(s) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, s);
    return nullptr;
  }
  return t;
}

void Fail(TF_OpKernelContext* ctx, const std::string& msg) {
  Status s;
  TF_SetStatus(s, TF_INVALID_ARGUMENT, msg.c_str());
  TF_OpKernelContext_Failure(ctx, s);
}

const float* F(TF_Tensor* t) { return static_cast<const float*>(TF_TensorData(t)); }
float* Fm(TF_Tensor* t) { return static_cast<float*>(TF_TensorData(t)); }

struct Outputs {
  std::vector<TF_Tensor*> t;
  ~Outputs() {
    for (auto* x : t)
      if (x) TF_DeleteTensor(x);
  }
};

// Attributes read at construction: a float (epsilon / scale).
struct FloatAttr {
  float v = 0;
};
void* CreateWithFloat(TF_OpKernelConstruction* c, const char* name) {
  auto* a = new FloatAttr;
  Status s;
  TF_OpKernelConstruction_GetAttrFloat(c, name, &a->v, s);
  if (TF_GetCode(s) != TF_OK) TF_OpKernelConstruction_Failure(c, s);
  return a;
}
void DeleteFloat(void* p) { delete static_cast<FloatAttr*>(p); }
void* CreateEps(TF_OpKernelConstruction* c) { return CreateWithFloat(c, "epsilon"); }
void* CreateNone(TF_OpKernelConstruction*) { return nullptr; }
void DeleteNone(void*) {}

// ---------------------------------------------------------------------------------------------------------------
// LayerNorm over the last axis

/** One row of LayerNorm: y = (x - mean) * rstd * g + b; returns mean and rstd. */
inline void LayerNormRow(const float* x, const float* g, const float* b, float* y, int64_t d, float eps, float* mean_out,
                         float* rstd_out) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < d; ++j) sum += x[j];
  const float mean = sum / d;
  float var = 0;
#pragma omp simd reduction(+ : var)
  for (int64_t j = 0; j < d; ++j) var += (x[j] - mean) * (x[j] - mean);
  const float rstd = 1.0f / std::sqrt(var / d + eps);
#pragma omp simd
  for (int64_t j = 0; j < d; ++j) y[j] = (x[j] - mean) * rstd * g[j] + b[j];
  *mean_out = mean;
  *rstd_out = rstd;
}

/** One row of LayerNorm's gradient, first pass: adds dy * x̂ to pg and dy to pb (dγ, dβ partial sums) and returns
 * mean(dy * g) and mean(dy * g * x̂), with which dx = rstd * (dy * g - a - x̂ * b). */
inline void LayerNormRowGradStats(const float* dy, const float* x, const float* g, float mean, float rstd, int64_t d,
                                  float* pg, float* pb, float* a_out, float* b_out) {
  float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t j = 0; j < d; ++j) {
    const float xh = (x[j] - mean) * rstd, gj = dy[j] * g[j];
    a += gj;
    b += gj * xh;
    pg[j] += dy[j] * xh;
    pb[j] += dy[j];
  }
  *a_out = a / d;
  *b_out = b / d;
}

void LayerNormCompute(void* k, TF_OpKernelContext* ctx) {
  const float eps = static_cast<FloatAttr*>(k)->v;
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 3, &in, s)) {
    auto xd = Dims(in.t[0]);
    const int64_t d = xd.empty() ? 1 : xd.back();
    const int64_t rows = d ? TF_TensorElementCount(in.t[0]) / d : 0;
    if (TF_TensorElementCount(in.t[1]) != d || TF_TensorElementCount(in.t[2]) != d) {
      Fail(ctx, "UadLayerNorm: gamma and beta must have the last dimension of x");
    } else {
      std::vector<int64_t> rd = {rows};
      TF_Tensor* y = Alloc(ctx, 0, xd, s);
      out.t.push_back(y);
      TF_Tensor* mu = y ? Alloc(ctx, 1, rd, s) : nullptr;
      out.t.push_back(mu);
      TF_Tensor* rs = mu ? Alloc(ctx, 2, rd, s) : nullptr;
      out.t.push_back(rs);
      if (rs) {
        const float *x = F(in.t[0]), *g = F(in.t[1]), *b = F(in.t[2]);
        float *yp = Fm(y), *mp = Fm(mu), *rp = Fm(rs);
        ForRows(rows, ChunkRows(d), [&](int64_t, int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) LayerNormRow(x + r * d, g, b, yp + r * d, d, eps, mp + r, rp + r);
        });
      }
    }
  }
}

void LayerNormGradCompute(void*, TF_OpKernelContext* ctx) {
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 5, &in, s)) {
    auto xd = Dims(in.t[1]);
    const int64_t d = xd.empty() ? 1 : xd.back();
    const int64_t rows = d ? TF_TensorElementCount(in.t[1]) / d : 0;
    if (TF_TensorElementCount(in.t[0]) != rows * d || TF_TensorElementCount(in.t[2]) != rows ||
        TF_TensorElementCount(in.t[3]) != rows || TF_TensorElementCount(in.t[4]) != d) {
      Fail(ctx, "UadLayerNormGrad: dy, x, mean, rstd and gamma do not match");
    } else {
      std::vector<int64_t> dd = {d};
      TF_Tensor* dx = Alloc(ctx, 0, xd, s);
      out.t.push_back(dx);
      TF_Tensor* dg = dx ? Alloc(ctx, 1, dd, s) : nullptr;
      out.t.push_back(dg);
      TF_Tensor* db = dg ? Alloc(ctx, 2, dd, s) : nullptr;
      out.t.push_back(db);
      if (db) {
        const float *dy = F(in.t[0]), *x = F(in.t[1]), *mu = F(in.t[2]), *rs = F(in.t[3]), *g = F(in.t[4]);
        float* dxp = Fm(dx);
        ChunkSums sums(rows, d, 2);  // dgamma, dbeta
        ForRows(rows, sums.chunk(), [&](int64_t c, int64_t r0, int64_t r1) {
          float *pg = sums.Part(c, 0), *pb = sums.Part(c, 1);
          for (int64_t r = r0; r < r1; ++r) {
            const float *dyr = dy + r * d, *xr = x + r * d;
            float* dxr = dxp + r * d;
            const float mean = mu[r], rstd = rs[r];
            float a, b;
            LayerNormRowGradStats(dyr, xr, g, mean, rstd, d, pg, pb, &a, &b);
#pragma omp simd
            for (int64_t j = 0; j < d; ++j) {
              const float xh = (xr[j] - mean) * rstd;
              dxr[j] = rstd * (dyr[j] * g[j] - a - xh * b);
            }
          }
        });
        sums.SumInto(0, Fm(dg));
        sums.SumInto(1, Fm(db));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Masked softmax over the last axis (+ dropout by a keep mask)

// 8-float vectors (GCC / Clang vector extensions: AVX or wider where the compiler may use it, SSE pairs otherwise).
// The auto-vectorised form of the same exp loop ran at scalar speed here (GCC 12), hence the explicit vectors.
typedef float V8 __attribute__((vector_size(32)));
typedef int32_t V8i __attribute__((vector_size(32)));
inline V8 Splat(float a) { return V8{a, a, a, a, a, a, a, a}; }
inline V8 Load(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void Store(float* p, V8 v) { std::memcpy(p, &v, sizeof v); }
/** the first n (< 8) floats of p, the rest `fill` */
inline V8 LoadPart(const float* p, int64_t n, float fill) {
  V8 v = Splat(fill);
  std::memcpy(&v, p, n * sizeof(float));
  return v;
}
inline void StorePart(float* p, V8 v, int64_t n) { std::memcpy(p, &v, n * sizeof(float)); }

/** e^x: Cephes' expf (range reduction by ln 2, degree-5 polynomial; relative error < 4e-7 here), exactly 0 below -87
 * (where float32 e^x is denormal or 0, e.g. a masked score). */
inline V8 Exp8(V8 x) {
  const V8 lo = Splat(-87.0f);
  const V8 xc = x < lo ? lo : x;
  const V8 fx = xc * 1.44269504088896341f + 0.5f;
  V8i n = __builtin_convertvector(fx, V8i);            // truncation ...
  n += (V8i)(__builtin_convertvector(n, V8) > fx);     // ... to floor (a true lane is -1)
  const V8 nf = __builtin_convertvector(n, V8);
  const V8 r = xc - nf * 0.693359375f + nf * 2.12194440e-4f;
  V8 p = Splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V8 e = (p * r * r + r + 1.0f) * (V8)((n + 127) << 23);
  return x < lo ? Splat(0.0f) : e;
}
inline float HMax(V8 v) {
  float m = v[0];
  for (int k = 1; k < 8; ++k) m = v[k] > m ? v[k] : m;
  return m;
}
inline float HSum(V8 v) {
  float s = 0;
  for (int k = 0; k < 8; ++k) s += v[k];
  return s;
}

// Dropout decisions from a counter-based hash of (seed, element index): element j is kept when byte j % 4 of
// Hash(j / 4) is >= threshold (P(keep) = 1 - threshold / 256, the rate rounded to 1/256 as the Philox byte masks of
// native-random.ts). Nothing is stored: the gradient recomputes the same decisions from the same seed.
struct KeepSource {
  uint32_t k0 = 0, k1 = 0, threshold = 0;
  bool on = false;
};
inline uint32_t HashWord(uint32_t w, uint32_t k0, uint32_t k1) {
  uint32_t h = w * 0x9E3779B1u + k0;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  h ^= k1;
  h *= 0x27D4EB2Fu;
  h ^= h >> 15;
  return h;
}
/** 1.0f when element j is kept, else 0.0f */
inline float KeepAt(const KeepSource& k, int64_t j) {
  const uint32_t h = HashWord(static_cast<uint32_t>(j >> 2), k.k0, k.k1);
  return ((h >> ((j & 3) << 3)) & 0xFFu) >= k.threshold ? 1.0f : 0.0f;
}
/** The seed input (int32 [2], or empty for no dropout) and the threshold attribute; false on a bad seed. */
bool ReadKeep(TF_Tensor* seed, int64_t threshold, KeepSource* k) {
  const int64_t n = TF_TensorElementCount(seed);
  if (n == 0 || threshold <= 0) return n == 0 || TF_TensorType(seed) == TF_INT32;
  if (n != 2 || TF_TensorType(seed) != TF_INT32 || threshold > 256) return false;
  const int32_t* v = static_cast<const int32_t*>(TF_TensorData(seed));
  k->k0 = static_cast<uint32_t>(v[0]);
  k->k1 = static_cast<uint32_t>(v[1]);
  k->threshold = static_cast<uint32_t>(threshold);
  k->on = true;
  return true;
}

struct DropAttrs {
  int64_t threshold = 0;
  float scale = 1;
};
void* CreateDrop(TF_OpKernelConstruction* c) {
  auto* a = new DropAttrs;
  Status s;
  TF_OpKernelConstruction_GetAttrInt64(c, "threshold", &a->threshold, s);
  if (TF_GetCode(s) == TF_OK && TF_OpKernelConstruction_HasAttr(c, "scale", s)) TF_OpKernelConstruction_GetAttrFloat(c, "scale", &a->scale, s);
  if (TF_GetCode(s) != TF_OK) TF_OpKernelConstruction_Failure(c, s);
  return a;
}
void DeleteDrop(void* p) { delete static_cast<DropAttrs*>(p); }

#ifdef __AVX512F__
/** Exp8's arithmetic, 16 lanes at a time (the same operations per lane, so the same values). */
inline __m512 Exp16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.0f);
  const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  const __m512 xc = _mm512_mask_blend_ps(under, x, lo);
  const __m512 fx = _mm512_add_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)), _mm512_set1_ps(0.5f));
  __m512i n = _mm512_cvttps_epi32(fx);  // truncation ...
  n = _mm512_mask_sub_epi32(n, _mm512_cmp_ps_mask(_mm512_cvtepi32_ps(n), fx, _CMP_GT_OQ), n, _mm512_set1_epi32(1));  // ... to floor
  const __m512 nf = _mm512_cvtepi32_ps(n);
  const __m512 r = _mm512_add_ps(_mm512_sub_ps(xc, _mm512_mul_ps(nf, _mm512_set1_ps(0.693359375f))),
                                 _mm512_mul_ps(nf, _mm512_set1_ps(2.12194440e-4f)));
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.0000001201e-1f));
  const __m512 poly = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, r), r), r), _mm512_set1_ps(1.0f));
  const __m512 e = _mm512_mul_ps(poly, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23)));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~under), e);
}
#endif

/** y = softmax(x + m) of one row of t (m may be null), and out = y * keep when `keep` is on (the row's first element
 * has index `base`). With AVX-512 in 16-float vectors (the sum of the exponentials then adds in another order than
 * the 8-float version: float rounding). */
inline void SoftmaxRow(const float* x, const float* m, float* y, const KeepSource& keep, int64_t base, float* out, int64_t t) {
#ifdef __AVX512F__
  {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < t; j += 16) {
      const __mmask16 k = t - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (t - j)) - 1);
      __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, x + j);
      if (m) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, m + j));
      _mm512_mask_storeu_ps(y + j, k, v);
      mx = _mm512_max_ps(mx, v);
    }
    const __m512 mxs = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < t; j += 16) {
      const __mmask16 k = t - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (t - j)) - 1);
      const __m512 e = _mm512_maskz_mov_ps(k, Exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, y + j), mxs)));
      _mm512_mask_storeu_ps(y + j, k, e);
      sum = _mm512_add_ps(sum, e);
    }
    const float inv = 1.0f / _mm512_reduce_add_ps(sum);
    if (keep.on) {
#pragma omp simd
      for (int64_t j = 0; j < t; ++j) {
        y[j] *= inv;
        out[j] = y[j] * KeepAt(keep, base + j);
      }
    } else {
      const __m512 iv = _mm512_set1_ps(inv);
      for (int64_t j = 0; j < t; j += 16) {
        const __mmask16 k = t - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (t - j)) - 1);
        _mm512_mask_storeu_ps(y + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + j), iv));
      }
    }
    return;
  }
#endif
  const int64_t full = t & ~int64_t{7}, rest = t - full;
  V8 mx = Splat(-INFINITY);
  for (int64_t j = 0; j < full; j += 8) {
    const V8 v = m ? Load(x + j) + Load(m + j) : Load(x + j);
    Store(y + j, v);
    mx = v > mx ? v : mx;
  }
  float mxs = HMax(mx);
  for (int64_t j = full; j < t; ++j) {
    y[j] = m ? x[j] + m[j] : x[j];
    mxs = y[j] > mxs ? y[j] : mxs;
  }
  V8 sum = Splat(0.0f);
  for (int64_t j = 0; j < full; j += 8) {
    const V8 e = Exp8(Load(y + j) - mxs);
    Store(y + j, e);
    sum += e;
  }
  if (rest) {
    const V8 e = Exp8(LoadPart(y + full, rest, -INFINITY) - mxs);  // padding lanes give 0
    StorePart(y + full, e, rest);
    sum += e;
  }
  const float inv = 1.0f / HSum(sum);
  if (keep.on) {
#pragma omp simd
    for (int64_t j = 0; j < t; ++j) {
      y[j] *= inv;
      out[j] = y[j] * KeepAt(keep, base + j);
    }
  } else {
#pragma omp simd
    for (int64_t j = 0; j < t; ++j) y[j] *= inv;
  }
}

void MaskedSoftmaxCompute(void* k, TF_OpKernelContext* ctx) {
  const int64_t threshold = static_cast<DropAttrs*>(k)->threshold;
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 3, &in, s)) {
    auto sd = Dims(in.t[0]);
    const int64_t t = sd.empty() ? 1 : sd.back();
    const int64_t n = TF_TensorElementCount(in.t[0]);
    const int64_t rows = t ? n / t : 0;
    const int64_t mn = TF_TensorElementCount(in.t[1]);
    const int64_t mrows = t ? mn / t : 0;  // the mask's rows (Tq): row r of scores uses mask row r % Tq
    KeepSource keep;
    if ((mn != 0 && (mn % t != 0 || mrows == 0 || rows % mrows != 0)) || !ReadKeep(in.t[2], threshold, &keep)) {
      Fail(ctx, "UadMaskedSoftmax: mask must be [Tq, Tk] (or empty), seed int32 [2] (or empty), threshold in [0, 256]");
    } else {
      TF_Tensor* y = Alloc(ctx, 0, sd, s);
      out.t.push_back(y);
      TF_Tensor* o = y ? Alloc(ctx, 1, keep.on ? sd : std::vector<int64_t>{0}, s) : nullptr;
      out.t.push_back(o);
      if (o) {
        const float *x = F(in.t[0]), *m = mn ? F(in.t[1]) : nullptr;
        float *yp = Fm(y), *op = keep.on ? Fm(o) : nullptr;
        ForRows(rows, ChunkRows(t), [&](int64_t, int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            const float* mr = m ? m + (r % mrows) * t : nullptr;
            SoftmaxRow(x + r * t, mr, yp + r * t, keep, r * t, op ? op + r * t : nullptr, t);
          }
        });
      }
    }
  }
}

void MaskedSoftmaxGradCompute(void* k, TF_OpKernelContext* ctx) {
  const int64_t threshold = static_cast<DropAttrs*>(k)->threshold;
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 3, &in, s)) {
    auto sd = Dims(in.t[1]);
    const int64_t t = sd.empty() ? 1 : sd.back();
    const int64_t n = TF_TensorElementCount(in.t[1]);
    const int64_t rows = t ? n / t : 0;
    KeepSource keep;
    if (TF_TensorElementCount(in.t[0]) != n || !ReadKeep(in.t[2], threshold, &keep)) {
      Fail(ctx, "UadMaskedSoftmaxGrad: dout and y must have one shape, seed int32 [2] (or empty)");
    } else {
      TF_Tensor* dx = Alloc(ctx, 0, sd, s);
      out.t.push_back(dx);
      if (dx) {
        const float *dy = F(in.t[0]), *y = F(in.t[1]);
        float* dxp = Fm(dx);
        ForRows(rows, ChunkRows(t), [&](int64_t, int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            const float *dyr = dy + r * t, *yr = y + r * t;
            float* dxr = dxp + r * t;
            float dot = 0;
            if (keep.on) {
              const int64_t base = r * t;
#pragma omp simd reduction(+ : dot)
              for (int64_t j = 0; j < t; ++j) {
                const float g = dyr[j] * KeepAt(keep, base + j);
                dxr[j] = g;
                dot += g * yr[j];
              }
#pragma omp simd
              for (int64_t j = 0; j < t; ++j) dxr[j] = yr[j] * (dxr[j] - dot);
            } else {
#pragma omp simd reduction(+ : dot)
              for (int64_t j = 0; j < t; ++j) dot += dyr[j] * yr[j];
#pragma omp simd
              for (int64_t j = 0; j < t; ++j) dxr[j] = yr[j] * (dyr[j] - dot);
            }
          }
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dropout from a seed: x * keep * scale (its own gradient, with dy for x and the same seed); and the keep mask itself

void DropoutCompute(void* k, TF_OpKernelContext* ctx) {
  const DropAttrs& a = *static_cast<DropAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 2, &in, s)) {
    const int64_t n = TF_TensorElementCount(in.t[0]);
    KeepSource keep;
    if (!ReadKeep(in.t[1], a.threshold, &keep) || !keep.on) {
      Fail(ctx, "UadDropout: seed must be int32 [2] and threshold in [1, 256]");
    } else {
      TF_Tensor* y = Alloc(ctx, 0, Dims(in.t[0]), s);
      out.t.push_back(y);
      if (y) {
        const float* x = F(in.t[0]);
        float* yp = Fm(y);
        const float scale = a.scale;
        ForRows(n, int64_t{1} << 16, [&](int64_t, int64_t i0, int64_t i1) {
#pragma omp simd
          for (int64_t i = i0; i < i1; ++i) yp[i] = x[i] * KeepAt(keep, i) * scale;
        });
      }
    }
  }
}

void KeepMaskCompute(void* k, TF_OpKernelContext* ctx) {
  const DropAttrs& a = *static_cast<DropAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 2, &in, s)) {
    KeepSource keep;
    if (!ReadKeep(in.t[1], a.threshold, &keep) || !keep.on) {
      Fail(ctx, "UadKeepMask: seed must be int32 [2] and threshold in [1, 256]");
    } else {
      auto d = Dims(in.t[0]);
      const int64_t n = TF_TensorElementCount(in.t[0]);
      TF_Tensor* y = TF_AllocateOutput(ctx, 0, TF_BOOL, d.data(), static_cast<int>(d.size()), n, s);
      if (TF_GetCode(s) != TF_OK) {
        TF_OpKernelContext_Failure(ctx, s);
      } else {
        out.t.push_back(y);
        bool* yp = static_cast<bool*>(TF_TensorData(y));
        for (int64_t i = 0; i < n; ++i) yp[i] = KeepAt(keep, i) != 0.0f;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The post-norm residual of a transformer layer: y = LayerNorm(z), z = x + dropout(h + bias), in one pass (and one
// back). Forward bit-identical to BiasAdd, UadDropout, Add and UadLayerNorm in turn (the same float operations in the
// same order).
//   UadResidualLayerNorm(x, h, bias, seed, gamma, beta; threshold, scale, epsilon) -> y, z, mean, rstd
//   UadResidualLayerNormGrad(dy, z, mean, rstd, gamma, seed; threshold, scale)     -> dx (= dz), dh, dgamma, dbeta, dbias

struct ResAttrs {
  int64_t threshold = 0;
  float scale = 1, eps = 1e-5f;
};
void* CreateRes(TF_OpKernelConstruction* c) {
  auto* a = new ResAttrs;
  Status s;
  TF_OpKernelConstruction_GetAttrInt64(c, "threshold", &a->threshold, s);
  if (TF_GetCode(s) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(c, "scale", &a->scale, s);
  if (TF_GetCode(s) == TF_OK && TF_OpKernelConstruction_HasAttr(c, "epsilon", s)) TF_OpKernelConstruction_GetAttrFloat(c, "epsilon", &a->eps, s);
  if (TF_GetCode(s) != TF_OK) TF_OpKernelConstruction_Failure(c, s);
  return a;
}
void DeleteRes(void* p) { delete static_cast<ResAttrs*>(p); }

void ResidualLayerNormCompute(void* k, TF_OpKernelContext* ctx) {
  const ResAttrs& a = *static_cast<ResAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 6, &in, s)) {
    auto xd = Dims(in.t[0]);
    const int64_t d = xd.empty() ? 1 : xd.back();
    const int64_t n = TF_TensorElementCount(in.t[0]);
    const int64_t rows = d ? n / d : 0;
    const int64_t bn = TF_TensorElementCount(in.t[2]);
    KeepSource keep;
    if (TF_TensorElementCount(in.t[1]) != n || (bn != 0 && bn != d) || TF_TensorElementCount(in.t[4]) != d ||
        TF_TensorElementCount(in.t[5]) != d || !ReadKeep(in.t[3], a.threshold, &keep)) {
      Fail(ctx, "UadResidualLayerNorm: x and h must have one shape, bias (or empty), gamma and beta its last dimension, seed int32 [2] (or empty)");
    } else {
      std::vector<int64_t> rd = {rows};
      TF_Tensor* y = Alloc(ctx, 0, xd, s);
      out.t.push_back(y);
      TF_Tensor* z = y ? Alloc(ctx, 1, xd, s) : nullptr;
      out.t.push_back(z);
      TF_Tensor* mu = z ? Alloc(ctx, 2, rd, s) : nullptr;
      out.t.push_back(mu);
      TF_Tensor* rs = mu ? Alloc(ctx, 3, rd, s) : nullptr;
      out.t.push_back(rs);
      if (rs) {
        const float *x = F(in.t[0]), *h = F(in.t[1]), *bias = bn ? F(in.t[2]) : nullptr, *g = F(in.t[4]), *b = F(in.t[5]);
        float *yp = Fm(y), *zp = Fm(z), *mp = Fm(mu), *rp = Fm(rs);
        const float scale = a.scale, eps = a.eps;
        ForRows(rows, ChunkRows(d), [&](int64_t, int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            const float *xr = x + r * d, *hr = h + r * d;
            float *zr = zp + r * d, *yr = yp + r * d;
            const int64_t base = r * d;
            if (keep.on) {
#pragma omp simd
              for (int64_t j = 0; j < d; ++j) {
                const float hb = bias ? hr[j] + bias[j] : hr[j];
                zr[j] = xr[j] + hb * KeepAt(keep, base + j) * scale;
              }
            } else {
#pragma omp simd
              for (int64_t j = 0; j < d; ++j) zr[j] = xr[j] + (bias ? hr[j] + bias[j] : hr[j]);
            }
            LayerNormRow(zr, g, b, yr, d, eps, mp + r, rp + r);
          }
        });
      }
    }
  }
}

void ResidualLayerNormGradCompute(void* k, TF_OpKernelContext* ctx) {
  const ResAttrs& a = *static_cast<ResAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 6, &in, s)) {
    auto zd = Dims(in.t[1]);
    const int64_t d = zd.empty() ? 1 : zd.back();
    const int64_t rows = d ? TF_TensorElementCount(in.t[1]) / d : 0;
    KeepSource keep;
    if (TF_TensorElementCount(in.t[0]) != rows * d || TF_TensorElementCount(in.t[2]) != rows ||
        TF_TensorElementCount(in.t[3]) != rows || TF_TensorElementCount(in.t[4]) != d ||
        !ReadKeep(in.t[5], a.threshold, &keep)) {
      Fail(ctx, "UadResidualLayerNormGrad: dy, z, mean, rstd, gamma and seed do not match");
    } else {
      std::vector<int64_t> dd = {d};
      const std::vector<int64_t>* shapes[5] = {&zd, &zd, &dd, &dd, &dd};
      for (int i = 0; i < 5 && (i == 0 || out.t.back()); ++i) out.t.push_back(Alloc(ctx, i, *shapes[i], s));
      if (out.t.size() == 5 && out.t.back()) {
        const float *dy = F(in.t[0]), *z = F(in.t[1]), *mu = F(in.t[2]), *rs = F(in.t[3]), *g = F(in.t[4]);
        float *dzp = Fm(out.t[0]), *dhp = Fm(out.t[1]);
        const float scale = a.scale;
        ChunkSums sums(rows, d, 3);  // dgamma, dbeta, dbias
        ForRows(rows, sums.chunk(), [&](int64_t c, int64_t r0, int64_t r1) {
          float *pg = sums.Part(c, 0), *pb = sums.Part(c, 1), *ph = sums.Part(c, 2);
          for (int64_t r = r0; r < r1; ++r) {
            const float *dyr = dy + r * d, *zr = z + r * d;
            float *dzr = dzp + r * d, *dhr = dhp + r * d;
            const float mean = mu[r], rstd = rs[r];
            float sa, sb;
            LayerNormRowGradStats(dyr, zr, g, mean, rstd, d, pg, pb, &sa, &sb);
            const int64_t base = r * d;
            if (keep.on) {
#pragma omp simd
              for (int64_t j = 0; j < d; ++j) {
                const float xh = (zr[j] - mean) * rstd;
                const float dz = rstd * (dyr[j] * g[j] - sa - xh * sb);
                dzr[j] = dz;
                const float dh = dz * KeepAt(keep, base + j) * scale;
                dhr[j] = dh;
                ph[j] += dh;
              }
            } else {
#pragma omp simd
              for (int64_t j = 0; j < d; ++j) {
                const float xh = (zr[j] - mean) * rstd;
                const float dz = rstd * (dyr[j] * g[j] - sa - xh * sb);
                dzr[j] = dz;
                dhr[j] = dz;
                ph[j] += dz;
              }
            }
          }
        });
        for (int i = 0; i < 3; ++i) sums.SumInto(i, Fm(out.t[2 + i]));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A feed-forward block's hidden activation: y = dropout(relu(h + bias)), in one pass; bit-identical to BiasAdd, Relu
// and UadDropout in turn. Its gradient needs only y: dh = dy * scale where y > 0, else 0 (a dropped or negative unit
// has y = 0), and dbias = the column sums of dh.
//   UadBiasReluDropout(h, bias, seed; threshold, scale) -> y
//   UadBiasReluDropoutGrad(dy, y; scale)                -> dh, dbias

void BiasReluDropoutCompute(void* k, TF_OpKernelContext* ctx) {
  const DropAttrs& a = *static_cast<DropAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 3, &in, s)) {
    auto hd = Dims(in.t[0]);
    const int64_t f = hd.empty() ? 1 : hd.back();
    const int64_t rows = f ? TF_TensorElementCount(in.t[0]) / f : 0;
    KeepSource keep;
    if (TF_TensorElementCount(in.t[1]) != f || !ReadKeep(in.t[2], a.threshold, &keep)) {
      Fail(ctx, "UadBiasReluDropout: bias must have h's last dimension, seed int32 [2] (or empty)");
    } else {
      TF_Tensor* y = Alloc(ctx, 0, hd, s);
      out.t.push_back(y);
      if (y) {
        const float *h = F(in.t[0]), *b = F(in.t[1]);
        float* yp = Fm(y);
        const float scale = a.scale;
        ForRows(rows, ChunkRows(f), [&](int64_t, int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            const float* hr = h + r * f;
            float* yr = yp + r * f;
            const int64_t base = r * f;
            if (keep.on) {
#pragma omp simd
              for (int64_t j = 0; j < f; ++j) {
                const float t = hr[j] + b[j];
                yr[j] = (t > 0.0f ? t : 0.0f) * KeepAt(keep, base + j) * scale;
              }
            } else {
#pragma omp simd
              for (int64_t j = 0; j < f; ++j) {
                const float t = hr[j] + b[j];
                yr[j] = t > 0.0f ? t : 0.0f;
              }
            }
          }
        });
      }
    }
  }
}

void BiasReluDropoutGradCompute(void* k, TF_OpKernelContext* ctx) {
  const float scale = static_cast<DropAttrs*>(k)->scale;
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 2, &in, s)) {
    auto yd = Dims(in.t[1]);
    const int64_t f = yd.empty() ? 1 : yd.back();
    const int64_t rows = f ? TF_TensorElementCount(in.t[1]) / f : 0;
    if (TF_TensorElementCount(in.t[0]) != rows * f) {
      Fail(ctx, "UadBiasReluDropoutGrad: dy and y must have one shape");
    } else {
      TF_Tensor* dh = Alloc(ctx, 0, yd, s);
      out.t.push_back(dh);
      TF_Tensor* db = dh ? Alloc(ctx, 1, {f}, s) : nullptr;
      out.t.push_back(db);
      if (db) {
        const float *dy = F(in.t[0]), *y = F(in.t[1]);
        float* dhp = Fm(dh);
        ChunkSums sums(rows, f, 1);  // dbias
        ForRows(rows, sums.chunk(), [&](int64_t c, int64_t r0, int64_t r1) {
          float* pc = sums.Part(c, 0);
          for (int64_t r = r0; r < r1; ++r) {
            const float *dyr = dy + r * f, *yr = y + r * f;
            float* dhr = dhp + r * f;
#pragma omp simd
            for (int64_t j = 0; j < f; ++j) {
              const float gs = dyr[j] * scale;  // (unconditional: a conditional load does not vectorise)
              const float g = yr[j] > 0.0f ? gs : 0.0f;
              dhr[j] = g;
              pc[j] += g;
            }
          }
        });
        sums.SumInto(0, Fm(db));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Attention heads: split a projection [B, T, H*hd] (+ its bias) into [B, H, T, hd], and merge back (times a scale),
// optionally with the column sums of the merged result (a bias gradient): one pass instead of BiasAdd + Transpose,
// or Transpose + BiasAddGrad.

struct HeadsAttrs {
  int64_t heads = 1;
  float scale = 1;
  bool sum = false;
};
void* CreateHeads(TF_OpKernelConstruction* c) {
  auto* a = new HeadsAttrs;
  Status s;
  TF_OpKernelConstruction_GetAttrInt64(c, "heads", &a->heads, s);
  if (TF_GetCode(s) == TF_OK && TF_OpKernelConstruction_HasAttr(c, "scale", s)) TF_OpKernelConstruction_GetAttrFloat(c, "scale", &a->scale, s);
  if (TF_GetCode(s) == TF_OK && TF_OpKernelConstruction_HasAttr(c, "sum", s)) {
    TF_Bool v = 0;
    TF_OpKernelConstruction_GetAttrBool(c, "sum", &v, s);
    a->sum = v != 0;
  }
  if (TF_GetCode(s) != TF_OK) TF_OpKernelConstruction_Failure(c, s);
  return a;
}
void DeleteHeads(void* p) { delete static_cast<HeadsAttrs*>(p); }

void SplitHeadsCompute(void* k, TF_OpKernelContext* ctx) {
  const int64_t h = static_cast<HeadsAttrs*>(k)->heads;
  const float scale = static_cast<HeadsAttrs*>(k)->scale;
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 2, &in, s)) {
    auto d = Dims(in.t[0]);
    const int64_t bn = TF_TensorElementCount(in.t[1]);
    if (d.size() != 3 || h < 1 || d[2] % h != 0 || (bn != 0 && bn != d[2])) {
      Fail(ctx, "UadSplitHeads: x must be [B, T, heads*hd] and bias [heads*hd] (or empty)");
    } else {
      const int64_t B = d[0], T = d[1], D = d[2], hd = D / h;
      TF_Tensor* y = Alloc(ctx, 0, {B, h, T, hd}, s);
      out.t.push_back(y);
      if (y) {
        const float *x = F(in.t[0]), *bias = bn ? F(in.t[1]) : nullptr;
        float* yp = Fm(y);
        ForRows(B * T, ChunkRows(D), [&](int64_t, int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            const int64_t b = r / T, t = r % T;
            const float* xr = x + r * D;
            for (int64_t hh = 0; hh < h; ++hh) {
              float* dst = yp + ((b * h + hh) * T + t) * hd;
              const float* src = xr + hh * hd;
              if (bias) {
                const float* bb = bias + hh * hd;
                if (scale == 1.0f) {
#pragma omp simd
                  for (int64_t j = 0; j < hd; ++j) dst[j] = src[j] + bb[j];
                } else {
#pragma omp simd
                  for (int64_t j = 0; j < hd; ++j) dst[j] = (src[j] + bb[j]) * scale;
                }
              } else if (scale == 1.0f) {
                std::memcpy(dst, src, hd * sizeof(float));
              } else {
#pragma omp simd
                for (int64_t j = 0; j < hd; ++j) dst[j] = src[j] * scale;
              }
            }
          }
        });
      }
    }
  }
}

void MergeHeadsCompute(void* k, TF_OpKernelContext* ctx) {
  const HeadsAttrs& a = *static_cast<HeadsAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  if (GetInputs(ctx, 1, &in, s)) {
    auto d = Dims(in.t[0]);
    if (d.size() != 4 || d[1] != a.heads) {
      Fail(ctx, "UadMergeHeads: x must be [B, heads, T, hd]");
    } else {
      const int64_t B = d[0], h = d[1], T = d[2], hd = d[3], D = h * hd;
      TF_Tensor* y = Alloc(ctx, 0, {B, T, D}, s);
      out.t.push_back(y);
      TF_Tensor* cs = y ? Alloc(ctx, 1, a.sum ? std::vector<int64_t>{D} : std::vector<int64_t>{0}, s) : nullptr;
      out.t.push_back(cs);
      if (cs) {
        const float* x = F(in.t[0]);
        float* yp = Fm(y);
        const float scale = a.scale;
        ChunkSums sums(B * T, D, a.sum ? 1 : 0);  // the column sums, when asked
        ForRows(B * T, sums.chunk(), [&](int64_t c, int64_t r0, int64_t r1) {
          float* pc = a.sum ? sums.Part(c, 0) : nullptr;
          for (int64_t r = r0; r < r1; ++r) {
            const int64_t b = r / T, t = r % T;
            float* yr = yp + r * D;
            for (int64_t hh = 0; hh < h; ++hh) {
              const float* src = x + ((b * h + hh) * T + t) * hd;
              float* dst = yr + hh * hd;
              if (scale == 1.0f) {
                std::memcpy(dst, src, hd * sizeof(float));
              } else {
#pragma omp simd
                for (int64_t j = 0; j < hd; ++j) dst[j] = src[j] * scale;
              }
            }
            if (pc) {
#pragma omp simd
              for (int64_t j = 0; j < D; ++j) pc[j] += yr[j];
            }
          }
        });
        if (a.sum) sums.SumInto(0, Fm(cs));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Adam / AdamW step of one group of same-shaped parameters, in the exact order of core optim/adam.ts's composition
// (compiled without FMA contraction, so each product and sum rounds as TensorFlow's separate kernels round them:
// without clipping the result is bit-identical to the composition).
//   no L2:  m1 = m*b1 + g*c1;  v1 = v*b2 + (g*g)*c2            c1 = coef*(1-b1), c2 = (coef*coef)*(1-b2)
//   L2:     gd = [g*coef] + p*wd;  m1 = m*b1 + gd*(1-b1);  v1 = v*b2 + (gd*gd)*(1-b2)
//   p1 = [p*decay] - (m1 / (sqrt(v1)*inv_sqrt_bc2 + eps)) * step_size
// Inputs: coef (scalar), m and v ([N, ...shape], the group's stacked slots), N parameters, N gradients.
// Outputs: m1, v1, N new parameters.

struct AdamAttrs {
  float b1, one_minus_b1, b2, one_minus_b2, eps, step_size, inv_sqrt_bc2, decay, wd;
  bool l2, decoupled, clipping;
};
void* CreateAdam(TF_OpKernelConstruction* c) {
  auto* a = new AdamAttrs;
  Status s;
  const std::pair<const char*, float*> fs[] = {{"b1", &a->b1}, {"one_minus_b1", &a->one_minus_b1}, {"b2", &a->b2},
                                               {"one_minus_b2", &a->one_minus_b2}, {"eps", &a->eps},
                                               {"step_size", &a->step_size}, {"inv_sqrt_bc2", &a->inv_sqrt_bc2},
                                               {"decay", &a->decay}, {"wd", &a->wd}};
  for (const auto& f : fs) {
    if (TF_GetCode(s) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(c, f.first, f.second, s);
  }
  const std::pair<const char*, bool*> bs[] = {{"l2", &a->l2}, {"decoupled", &a->decoupled}, {"clipping", &a->clipping}};
  for (const auto& b : bs) {
    TF_Bool v = 0;
    if (TF_GetCode(s) == TF_OK) TF_OpKernelConstruction_GetAttrBool(c, b.first, &v, s);
    *b.second = v != 0;
  }
  if (TF_GetCode(s) != TF_OK) TF_OpKernelConstruction_Failure(c, s);
  return a;
}
void DeleteAdam(void* p) { delete static_cast<AdamAttrs*>(p); }

void AdamCompute(void* k, TF_OpKernelContext* ctx) {
  const AdamAttrs& a = *static_cast<AdamAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  const int total = TF_NumInputs(ctx);
  const int n = (total - 3) / 2;
  if (n >= 1 && total == 3 + 2 * n && GetInputs(ctx, total, &in, s)) {
    const int64_t per = TF_TensorElementCount(in.t[3]);
    bool ok = TF_TensorElementCount(in.t[0]) == 1 && TF_TensorElementCount(in.t[1]) == n * per &&
              TF_TensorElementCount(in.t[2]) == n * per;
    for (int i = 0; i < n && ok; ++i)
      ok = TF_TensorElementCount(in.t[3 + i]) == per && TF_TensorElementCount(in.t[3 + n + i]) == per;
    if (!ok) {
      Fail(ctx, "UadAdamStep: m and v must be [N, ...shape] and the N parameters and gradients of that shape");
    } else {
      const float coef = F(in.t[0])[0];
      TF_Tensor* m1 = Alloc(ctx, 0, Dims(in.t[1]), s);
      out.t.push_back(m1);
      TF_Tensor* v1 = m1 ? Alloc(ctx, 1, Dims(in.t[2]), s) : nullptr;
      out.t.push_back(v1);
      for (int i = 0; i < n && v1 && out.t.back(); ++i) out.t.push_back(Alloc(ctx, 2 + i, Dims(in.t[3 + i]), s));
      if (out.t.back()) {
        const float c1 = coef * a.one_minus_b1;
        const float c2 = (coef * coef) * a.one_minus_b2;
        const int64_t chunk = int64_t{1} << 15, chunks = (per + chunk - 1) / chunk;
        ThePool().Run(static_cast<int>(n * chunks), [&](int task) {
          const int i = task / static_cast<int>(chunks);
          const int64_t j0 = (task % chunks) * chunk, j1 = std::min(per, j0 + chunk);
          const float *m = F(in.t[1]) + i * per, *v = F(in.t[2]) + i * per;
          const float *p = F(in.t[3 + i]), *g = F(in.t[3 + n + i]);
          float *mo = Fm(m1) + i * per, *vo = Fm(v1) + i * per, *po = Fm(out.t[2 + i]);
          // branch-free (x * 1.0f is exact, so the unused factors change nothing) so that the loops vectorise
          const float b1 = a.b1, b2 = a.b2, eps = a.eps, isb = a.inv_sqrt_bc2, ss = a.step_size;
          const float decay = a.decoupled ? a.decay : 1.0f;
          if (!a.l2) {
#pragma omp simd
            for (int64_t j = j0; j < j1; ++j) {
              const float mj = m[j] * b1 + g[j] * c1;
              const float vj = v[j] * b2 + (g[j] * g[j]) * c2;
              const float denom = std::sqrt(vj) * isb + eps;
              mo[j] = mj;
              vo[j] = vj;
              po[j] = p[j] * decay - (mj / denom) * ss;
            }
          } else {
            const float cf = a.clipping ? coef : 1.0f, wd = a.wd, omb1 = a.one_minus_b1, omb2 = a.one_minus_b2;
#pragma omp simd
            for (int64_t j = j0; j < j1; ++j) {
              const float gd = g[j] * cf + p[j] * wd;
              const float mj = m[j] * b1 + gd * omb1;
              const float vj = v[j] * b2 + (gd * gd) * omb2;
              const float denom = std::sqrt(vj) * isb + eps;
              mo[j] = mj;
              vo[j] = vj;
              po[j] = p[j] * decay - (mj / denom) * ss;
            }
          }
        });
      }
    }
  } else if (TF_GetCode(s) == TF_OK && !(n >= 1 && total == 3 + 2 * n)) {
    Fail(ctx, "UadAdamStep: expected coef, m, v, N parameters and N gradients");
  }
}

// Sum of squares of N tensors (the squared global gradient norm), in double, tensor by tensor in order.
void SumSquaresCompute(void*, TF_OpKernelContext* ctx) {
  Status s;
  Inputs in;
  Outputs out;
  const int n = TF_NumInputs(ctx);
  if (GetInputs(ctx, n, &in, s)) {
    TF_Tensor* y = Alloc(ctx, 0, {}, s);
    out.t.push_back(y);
    if (y) {
      // fixed chunks of every tensor, each summed in double; chunk sums added in order
      struct Part { int i; int64_t j0, j1; };
      std::vector<Part> parts;
      const int64_t chunk = int64_t{1} << 16;
      for (int i = 0; i < n; ++i) {
        const int64_t e = TF_TensorElementCount(in.t[i]);
        for (int64_t j = 0; j < e; j += chunk) parts.push_back({i, j, std::min(e, j + chunk)});
      }
      std::vector<double> sums(parts.size(), 0.0);
      ThePool().Run(static_cast<int>(parts.size()), [&](int t) {
        const float* x = F(in.t[parts[t].i]);
        double acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t j = parts[t].j0; j < parts[t].j1; ++j) acc += static_cast<double>(x[j]) * x[j];
        sums[t] = acc;
      });
      double total = 0;
      for (double v : sums) total += v;
      Fm(y)[0] = static_cast<float>(total);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// bfloat16 matrix products on AVX512-BF16 (VDPBF16PS): C = alpha · A·B (+ bias) (then ReLU), A and B read through
// strided views (so transposes and the heads of an attention projection need no copy), rounded to bfloat16 (round
// to nearest even, as oneDNN's math mode bf16 rounds), each product of two bfloat16 exact in float32 and summed in
// float32; C float32. Batched over two leading axes (e.g. batch and head).
//   UadMatMulBf16(a, b, bias; dims [Z0, Z1, M, N, K], a_strides / b_strides / c_strides [s0, s1, row, col],
//                 out_shape, alpha, relu) -> c          element (z0, z1, i, j) of a view = p[z0*s0 + z1*s1 + i*row + j*col]
// Why: TensorFlow's bf16 path on a CPU without AMX runs oneDNN's kernel at half the speed PyTorch gets from the same
// kernel (the product [1568, 256]·[256, 256]: 0.8-1.1 ms against 0.49 ms), plus a cast before and after every product.
// Blocking: A in panels of 12 rows, B in panels of 32 columns, each packed once per call into bfloat16 pairs along K;
// a 12×32 tile of C is 24 zmm accumulators over the whole K. Every element of C is one ordered sum over K, whatever
// the thread count: deterministic.
#ifdef UAD_BF16_GEMM
namespace bf16 {
#ifndef UAD_MR
#define UAD_MR 12
#define UAD_NH 2
#endif
constexpr int64_t MR = UAD_MR, NH = UAD_NH, NR = 16 * NH;  // a tile: MR rows × NH zmm of 16 columns

struct View {
  const float* p;
  int64_t s0, s1, rs, cs;
};

inline __mmask16 Mask16(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }
inline __mmask32 Mask32(int64_t n) { return n >= 32 ? __mmask32(0xFFFFFFFFu) : n <= 0 ? __mmask32(0) : __mmask32((1u << n) - 1); }
/** 32 floats -> 32 bfloat16 [lo0..lo15, hi0..hi15] (the pairs (2i, 2i+1) are the 32-bit lanes) */
inline __m512i Cvt2(__m512 lo, __m512 hi) { return (__m512i)_mm512_cvtne2ps_pbh(hi, lo); }

/** In-register transpose of a 16×16 block of 32-bit lanes: v[i][j] -> v[j][i]. */
inline void Transpose16(__m512i v[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(v[i], v[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // u[4q + j], lane l: column 4l + j of rows 4q..4q+3
  for (int j = 0; j < 4; ++j) {
    const __m512i w0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44), w1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE);
    const __m512i w2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44), w3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
    v[j] = _mm512_shuffle_i32x4(w0, w2, 0x88);
    v[4 + j] = _mm512_shuffle_i32x4(w0, w2, 0xDD);
    v[8 + j] = _mm512_shuffle_i32x4(w1, w3, 0x88);
    v[12 + j] = _mm512_shuffle_i32x4(w1, w3, 0xDD);
  }
}

/** Rows i0.. (mr <= MR of them) of A, all K, as bfloat16 rows of kp (even) in ap[MR * kp]; zero beyond M and K. */
void PackA(const float* a, int64_t rs, int64_t cs, int64_t mr, int64_t K, int64_t kp, uint16_t* ap, std::vector<float>& tmp) {
  if (cs != 1 && rs != 1) {  // general strides: gather into rows first
    tmp.assign(static_cast<size_t>(MR * K), 0.0f);
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t k = 0; k < K; ++k) tmp[r * K + k] = a[r * rs + k * cs];
    a = tmp.data(), rs = K, cs = 1;
  }
  if (cs == 1) {
    for (int64_t r = 0; r < MR; ++r) {
      uint16_t* dst = ap + r * kp;
      if (r >= mr) {
        std::memset(dst, 0, kp * sizeof(uint16_t));
        continue;
      }
      const float* src = a + r * rs;
      for (int64_t k = 0; k < kp; k += 32) {
        const __m512 lo = _mm512_maskz_loadu_ps(Mask16(K - k), src + k), hi = _mm512_maskz_loadu_ps(Mask16(K - k - 16), src + k + 16);
        _mm512_mask_storeu_epi16(dst + k, Mask32(kp - k), Cvt2(lo, hi));
      }
    }
    return;
  }
  // rs == 1: A(i, k) = a[i + k*cs]; 16 values of k at a time, the rows as lanes, transposed in registers
  const __mmask16 rows = Mask16(mr);
  for (int64_t k = 0; k < kp; k += 16) {
    __m512i v[16];
    for (int64_t j = 0; j < 16; ++j)
      v[j] = k + j < K ? _mm512_castps_si512(_mm512_maskz_loadu_ps(rows, a + (k + j) * cs)) : _mm512_setzero_si512();
    Transpose16(v);
    const __mmask16 w = Mask16(kp - k);
    for (int64_t r = 0; r < MR; ++r) _mm256_mask_storeu_epi16(ap + r * kp + k, w, (__m256i)_mm512_cvtneps_pbh(_mm512_castsi512_ps(v[r])));
  }
}

/** Columns j0.. (nr <= NR of them) of B, all K, as pairs along K: bp[(p * NR + n) * 2 + {0, 1}] = B(2p, n), B(2p+1, n). */
void PackB(const float* b, int64_t rs, int64_t cs, int64_t nr, int64_t K, int64_t pairs, uint16_t* bp, std::vector<float>& tmp) {
  if (cs != 1 && rs != 1) {  // general strides: gather into rows first
    tmp.assign(static_cast<size_t>(K * NR), 0.0f);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < nr; ++n) tmp[k * NR + n] = b[k * rs + n * cs];
    b = tmp.data(), rs = NR, cs = 1;
  }
  if (cs == 1) {
    // interleave two rows: bf16 lane e of the result = lane e/2 of row 2p (e even) or of row 2p+1 (e odd)
    alignas(64) static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                                   8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i idx = _mm512_load_si512(order);
    for (int64_t p = 0; p < pairs; ++p) {
      const float* r0 = b + 2 * p * rs;
      const bool second = 2 * p + 1 < K;
      for (int64_t h = 0; h < NH; ++h) {
        const __mmask16 m = Mask16(nr - 16 * h);
        const __m512 x0 = _mm512_maskz_loadu_ps(m, r0 + 16 * h);
        const __m512 x1 = second ? _mm512_maskz_loadu_ps(m, r0 + rs + 16 * h) : _mm512_setzero_ps();
        _mm512_storeu_si512(bp + (p * NR + 16 * h) * 2, _mm512_permutexvar_epi16(idx, Cvt2(x0, x1)));
      }
    }
    return;
  }
  // rs == 1: B(k, n) = b[k + n*cs]; a column's pairs are adjacent floats: 16 pairs of 16 columns, transposed
  for (int64_t p0 = 0; p0 < pairs; p0 += 16) {
    const int64_t k0 = 2 * p0;
    for (int64_t h = 0; h < NH; ++h) {
      __m512i v[16];
      for (int64_t j = 0; j < 16; ++j) {
        const int64_t n = 16 * h + j;
        if (n >= nr) {
          v[j] = _mm512_setzero_si512();
          continue;
        }
        const float* col = b + n * cs + k0;
        v[j] = Cvt2(_mm512_maskz_loadu_ps(Mask16(K - k0), col), _mm512_maskz_loadu_ps(Mask16(K - k0 - 16), col + 16));
      }
      Transpose16(v);
      for (int64_t q = 0; q < 16 && p0 + q < pairs; ++q) _mm512_storeu_si512(bp + ((p0 + q) * NR + 16 * h) * 2, v[q]);
    }
  }
}

/** tile[MR][NR] (+)= the packed A panel times one packed B panel, over `pairs` pairs of K (`accumulate`: continue
 * the sums already in tile, in the same order as one longer call). */
inline void Kernel(const uint16_t* ap, int64_t kp, const uint16_t* bp, int64_t pairs, float* tile, bool accumulate = false) {
  __m512 c[MR][NH];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int h = 0; h < NH; ++h) c[r][h] = accumulate ? _mm512_loadu_ps(tile + r * NR + 16 * h) : _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    __m512bh b[NH];
#pragma GCC unroll 4
    for (int h = 0; h < NH; ++h) b[h] = (__m512bh)_mm512_loadu_si512(bp + (p * NR + 16 * h) * 2);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, ap + r * kp + 2 * p, sizeof pair);
      const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
#pragma GCC unroll 4
      for (int h = 0; h < NH; ++h) c[r][h] = _mm512_dpbf16_ps(c[r][h], a, b[h]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int h = 0; h < NH; ++h) _mm512_storeu_ps(tile + r * NR + 16 * h, c[r][h]);
}

/** Pairs of K per block when K is long: A's block (MR × 256 bf16, 6 KB) and B's (256 × NR, 16 KB) stay in L1. */
constexpr int64_t KC_PAIRS = 128;

struct Problem {
  int64_t z0, z1, M, N, K;
  View a, b;
  float* c;
  int64_t c_s0, c_s1, c_rs, c_cs;
  const float* bias;  // [N] or null
  float alpha;
  bool relu;
};

/** The tile (mr × nr valid) to C at (i0, j0): alpha · tile + bias, then ReLU. */
void Store(const Problem& P, const float* tile, float* c, int64_t i0, int64_t j0, int64_t mr, int64_t nr) {
  const __m512 alpha = _mm512_set1_ps(P.alpha), zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < mr; ++r) {
    float* row = c + (i0 + r) * P.c_rs;
    for (int64_t h = 0; h < NH && 16 * h < nr; ++h) {
      const __mmask16 m = Mask16(nr - 16 * h);
      __m512 v = _mm512_loadu_ps(tile + r * NR + 16 * h);
      if (P.alpha != 1.0f) v = _mm512_mul_ps(v, alpha);
      if (P.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, P.bias + j0 + 16 * h));
      if (P.relu) v = _mm512_max_ps(v, zero);
      if (P.c_cs == 1) {
        _mm512_mask_storeu_ps(row + j0 + 16 * h, m, v);
      } else {
        alignas(64) float o[16];
        _mm512_store_ps(o, v);
        for (int64_t j = 0; j < std::min<int64_t>(16, nr - 16 * h); ++j) row[(j0 + 16 * h + j) * P.c_cs] = o[j];
      }
    }
  }
}

/** A packed buffer of n uint16 in v, starting on a cache line (a 64-byte load across two lines costs two). */
uint16_t* AlignedPanel(std::vector<uint16_t>& v, size_t n) {
  v.resize(n + 32);
  return reinterpret_cast<uint16_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t{63});
}

/** C of P. */
void Run(const Problem& P) {
  const int64_t kp = (P.K + 1) & ~int64_t{1}, pairs = kp / 2;
  const int64_t mpan = (P.M + MR - 1) / MR, npan = (P.N + NR - 1) / NR, Z = P.z0 * P.z1;
  const int64_t panel_b = pairs * NR * 2;  // uint16 per packed B panel
  if (Z == 0 || P.M == 0 || P.N == 0) return;
  struct Local {
    std::vector<uint16_t> a, b;
    std::vector<float> tmp, acc;
  };
  static thread_local Local local;
  auto offsets = [&](int64_t z, const View& v) { return v.p + (z / P.z1) * v.s0 + (z % P.z1) * v.s1; };
  auto c_at = [&](int64_t z) { return P.c + (z / P.z1) * P.c_s0 + (z % P.z1) * P.c_s1; };
  // one A panel against every packed B panel
  auto rows = [&](int64_t z, int64_t mp, const uint16_t* bpk, Local& L) {
    const int64_t i0 = mp * MR, mr = std::min(MR, P.M - i0);
    uint16_t* ap = AlignedPanel(L.a, static_cast<size_t>(MR * kp));
    PackA(offsets(z, P.a) + i0 * P.a.rs, P.a.rs, P.a.cs, mr, P.K, kp, ap, L.tmp);
    alignas(64) float tile[MR * NR];
    if (pairs > KC_PAIRS) {
      // long K: block by block over every B panel, the partial sums of all the panel's tiles in L.acc
      L.acc.resize(static_cast<size_t>(npan * MR * NR));
      for (int64_t p0 = 0; p0 < pairs; p0 += KC_PAIRS) {
        const int64_t pc = std::min(KC_PAIRS, pairs - p0);
        for (int64_t np = 0; np < npan; ++np)
          Kernel(ap + 2 * p0, kp, bpk + np * panel_b + p0 * NR * 2, pc, L.acc.data() + np * MR * NR, p0 > 0);
      }
      for (int64_t np = 0; np < npan; ++np) Store(P, L.acc.data() + np * MR * NR, c_at(z), i0, np * NR, mr, std::min(NR, P.N - np * NR));
      return;
    }
    for (int64_t np = 0; np < npan; ++np) {
      Kernel(ap, kp, bpk + np * panel_b, pairs, tile);
      Store(P, tile, c_at(z), i0, np * NR, mr, std::min(NR, P.N - np * NR));
    }
  };
  auto pack_b = [&](int64_t z, int64_t np, uint16_t* dst, Local& L) {
    PackB(offsets(z, P.b) + np * NR * P.b.cs, P.b.rs, P.b.cs, std::min(NR, P.N - np * NR), P.K, pairs, dst + np * panel_b, L.tmp);
  };
  const int threads = PoolSize();
  if (Z >= 2 * threads) {
    // many small products (attention maps): one per task, packed in the thread's own buffers
    ThePool().Run(static_cast<int>(Z), [&](int z) {
      Local& L = local;
      uint16_t* bpk = AlignedPanel(L.b, static_cast<size_t>(npan * panel_b));
      for (int64_t np = 0; np < npan; ++np) pack_b(z, np, bpk, L);
      for (int64_t mp = 0; mp < mpan; ++mp) rows(z, mp, bpk, L);
    });
    return;
  }
  std::vector<uint16_t> shared_b;
  uint16_t* bpk = AlignedPanel(shared_b, static_cast<size_t>(npan * panel_b));
  for (int64_t z = 0; z < Z; ++z) {
    ThePool().Run(static_cast<int>(npan), [&](int np) { pack_b(z, np, bpk, local); });
    ThePool().Run(static_cast<int>(mpan), [&](int mp) { rows(z, mp, bpk, local); });
  }
}

/** Views and options of a whole attention, softmax(alpha · Q Kᵀ + mask) V per (z0, z1) = (batch, head). */
struct Attention {
  int64_t z0, z1, tq, tk, hd;
  View q, k, v;  // q: [tq, hd] rows; k: [tk, hd] rows (read transposed); v: [tk, hd] rows
  float* o;      // output view [tq, hd] per (z0, z1)
  int64_t o_s0, o_s1, o_rs;
  const float* mask;  // [tq, tk] or null
  float alpha, out_scale;
  KeepSource keep;
  float *y, *dropped;  // the probabilities [z0, z1, tq, tk] and y·keep (both null: not kept, inference)
};

/**
 * Per (batch, head) task: Kᵀ and V packed once; per panel of MR query rows: the score rows (in L1), their masked
 * softmax (and dropout), packed again as the A panel of P·V, multiplied out. P reaches memory only when kept for the
 * gradient. The same numbers as UadMatMulBf16 (scores), UadMaskedSoftmax and UadMatMulBf16 (context).
 */
void RunAttention(const Attention& A) {
  const int64_t Z = A.z0 * A.z1;
  if (Z == 0 || A.tq == 0 || A.hd == 0) return;
  const int64_t kp_s = (A.hd + 1) & ~int64_t{1}, pairs_s = kp_s / 2, npan_s = (A.tk + NR - 1) / NR;
  const int64_t kp_v = (A.tk + 1) & ~int64_t{1}, pairs_v = kp_v / 2, npan_v = (A.hd + NR - 1) / NR;
  const int64_t panel_s = pairs_s * NR * 2, panel_v = pairs_v * NR * 2, ld = npan_s * NR;
  struct Local {
    std::vector<uint16_t> a, ks, vs;
    std::vector<float> tmp, rows, probs;
  };
  static thread_local Local local;
  // the score product: C = alpha · Q Kᵀ into rows of ld floats; the context: C = out_scale · P V into o
  Problem S{1, 1, 0, A.tk, A.hd, A.q, A.k, nullptr, 0, 0, ld, 1, nullptr, A.alpha, false};
  Problem O{1, 1, 0, A.hd, A.tk, {}, A.v, nullptr, 0, 0, A.o_rs, 1, nullptr, A.out_scale, false};
  ThePool().Run(static_cast<int>(Z), [&](int z) {
    Local& L = local;
    const int64_t zs = (z / A.z1), zh = (z % A.z1);
    const float* q = A.q.p + zs * A.q.s0 + zh * A.q.s1;
    const float* k = A.k.p + zs * A.k.s0 + zh * A.k.s1;
    const float* v = A.v.p + zs * A.v.s0 + zh * A.v.s1;
    float* o = A.o + zs * A.o_s0 + zh * A.o_s1;
    uint16_t* ks = AlignedPanel(L.ks, static_cast<size_t>(npan_s * panel_s));
    uint16_t* vs = AlignedPanel(L.vs, static_cast<size_t>(npan_v * panel_v));
    for (int64_t np = 0; np < npan_s; ++np)
      PackB(k + np * NR * A.k.cs, A.k.rs, A.k.cs, std::min(NR, A.tk - np * NR), A.hd, pairs_s, ks + np * panel_s, L.tmp);
    for (int64_t np = 0; np < npan_v; ++np)
      PackB(v + np * NR * A.v.cs, A.v.rs, A.v.cs, std::min(NR, A.hd - np * NR), A.tk, pairs_v, vs + np * panel_v, L.tmp);
    L.rows.resize(static_cast<size_t>(MR * ld));
    L.probs.resize(static_cast<size_t>(2 * MR * A.tk));  // y rows, then dropped rows (when not kept)
    uint16_t* ap = AlignedPanel(L.a, static_cast<size_t>(MR * std::max(kp_s, kp_v)));
    alignas(64) float tile[MR * NR];
    for (int64_t i0 = 0; i0 < A.tq; i0 += MR) {
      const int64_t mr = std::min(MR, A.tq - i0);
      PackA(q + i0 * A.q.rs, A.q.rs, A.q.cs, mr, A.hd, kp_s, ap, L.tmp);
      for (int64_t np = 0; np < npan_s; ++np) {
        Kernel(ap, kp_s, ks + np * panel_s, pairs_s, tile);
        Store(S, tile, L.rows.data(), 0, np * NR, mr, std::min(NR, A.tk - np * NR));
      }
      // the probabilities of these rows: to the kept tensors (training) or a local buffer (inference)
      const float* p = nullptr;
      int64_t p_rs = A.tk;
      for (int64_t r = 0; r < mr; ++r) {
        const int64_t flat = (z * A.tq + i0 + r) * A.tk;
        float* yr = A.y ? A.y + flat : L.probs.data() + r * A.tk;
        float* dr = !A.keep.on ? nullptr : A.dropped ? A.dropped + flat : L.probs.data() + (MR + r) * A.tk;
        SoftmaxRow(L.rows.data() + r * ld, A.mask ? A.mask + (i0 + r) * A.tk : nullptr, yr, A.keep, flat, dr, A.tk);
        if (r == 0) p = dr ? dr : yr;
      }
      PackA(p, p_rs, 1, mr, A.tk, kp_v, ap, L.tmp);
      for (int64_t np = 0; np < npan_v; ++np) {
        Kernel(ap, kp_v, vs + np * panel_v, pairs_v, tile);
        Store(O, tile, o, i0, np * NR, mr, std::min(NR, A.hd - np * NR));
      }
    }
  });
}
}  // namespace bf16

/** The int-list attribute `name` into `out`: `want` entries (any number when want < 0); a no-op once `s` failed. */
void GetIntList(TF_OpKernelConstruction* c, const char* op, const char* name, int want, std::vector<int64_t>* out, TF_Status* s) {
  if (TF_GetCode(s) != TF_OK) return;
  int32_t n = 0, total = 0;
  TF_OpKernelConstruction_GetAttrSize(c, name, &n, &total, s);
  if (TF_GetCode(s) != TF_OK) return;
  if (want >= 0 && n != want) {
    TF_SetStatus(s, TF_INVALID_ARGUMENT, (std::string(op) + ": wrong length of " + name).c_str());
    return;
  }
  out->resize(static_cast<size_t>(std::max(n, 0)));
  if (n > 0) TF_OpKernelConstruction_GetAttrInt64List(c, name, out->data(), n, s);
}

struct MatMulAttrs {
  std::vector<int64_t> dims, as, bs, cs;
  std::vector<int64_t> out_shape;
  float alpha = 1;
  bool relu = false;
};
void* CreateMatMul(TF_OpKernelConstruction* c) {
  auto* a = new MatMulAttrs;
  Status s;
  const char* op = "UadMatMulBf16";
  GetIntList(c, op, "dims", 5, &a->dims, s);
  GetIntList(c, op, "a_strides", 4, &a->as, s);
  GetIntList(c, op, "b_strides", 4, &a->bs, s);
  GetIntList(c, op, "c_strides", 4, &a->cs, s);
  GetIntList(c, op, "out_shape", -1, &a->out_shape, s);
  if (TF_GetCode(s) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(c, "alpha", &a->alpha, s);
  if (TF_GetCode(s) == TF_OK) {
    TF_Bool v = 0;
    TF_OpKernelConstruction_GetAttrBool(c, "relu", &v, s);
    a->relu = v != 0;
  }
  if (TF_GetCode(s) != TF_OK) TF_OpKernelConstruction_Failure(c, s);
  return a;
}
void DeleteMatMul(void* p) { delete static_cast<MatMulAttrs*>(p); }

/** Largest element offset a view reaches (-1 when it is empty or a stride is negative). */
int64_t Reach(int64_t z0, int64_t z1, int64_t m, int64_t n, const int64_t* st) {
  if (z0 <= 0 || z1 <= 0 || m <= 0 || n <= 0) return 0;
  for (int i = 0; i < 4; ++i)
    if (st[i] < 0) return -1;
  return (z0 - 1) * st[0] + (z1 - 1) * st[1] + (m - 1) * st[2] + (n - 1) * st[3];
}

/** The product's Problem from the attributes and inputs a, b, bias (empty: none), or false (after Fail) when the
 * views do not fit the tensors. */
bool MakeProblem(TF_OpKernelContext* ctx, const MatMulAttrs& a, const char* op, TF_Tensor* ta, TF_Tensor* tb, TF_Tensor* bias,
                 bf16::Problem* P) {
  const int64_t z0 = a.dims[0], z1 = a.dims[1], M = a.dims[2], N = a.dims[3], K = a.dims[4];
  int64_t out_n = 1;
  for (int64_t d : a.out_shape) out_n *= d;
  const int64_t bias_n = TF_TensorElementCount(bias);
  const int64_t ra = Reach(z0, z1, M, K, a.as.data()), rb = Reach(z0, z1, K, N, a.bs.data()), rc = Reach(z0, z1, M, N, a.cs.data());
  const bool empty = z0 * z1 * M * N == 0;
  if (z0 < 0 || z1 < 0 || M < 0 || N < 0 || K < 0 || ra < 0 || rb < 0 || rc < 0 || out_n != z0 * z1 * M * N ||
      (!empty && K > 0 && (ra >= TF_TensorElementCount(ta) || rb >= TF_TensorElementCount(tb))) ||
      (!empty && rc >= out_n) || (bias_n != 0 && bias_n != N)) {
    Fail(ctx, std::string(op) + ": the views (dims, strides, out_shape, bias) do not fit the tensors");
    return false;
  }
  *P = bf16::Problem{z0, z1, M, N, K,
                     {F(ta), a.as[0], a.as[1], a.as[2], a.as[3]},
                     {F(tb), a.bs[0], a.bs[1], a.bs[2], a.bs[3]},
                     nullptr, a.cs[0], a.cs[1], a.cs[2], a.cs[3],
                     bias_n ? F(bias) : nullptr, a.alpha, a.relu};
  return true;
}

void MatMulCompute(void* k, TF_OpKernelContext* ctx) {
  const MatMulAttrs& a = *static_cast<MatMulAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  bf16::Problem P;
  if (!GetInputs(ctx, 3, &in, s) || !MakeProblem(ctx, a, "UadMatMulBf16", in.t[0], in.t[1], in.t[2], &P)) return;
  TF_Tensor* c = Alloc(ctx, 0, a.out_shape, s);
  out.t.push_back(c);
  if (!c || P.z0 * P.z1 * P.M * P.N == 0) return;
  P.c = Fm(c);
  bf16::Run(P);
}

// The whole attention per (batch, head): o = out_scale · dropout(softmax(alpha · Q Kᵀ + mask)) V (bf16::RunAttention).
//   UadAttentionBf16(q, k, v, mask, seed; dims [B, H, Tq, Tk, hd], q/k/v/o_strides [s0, s1, row, col], out_shape,
//                    alpha, out_scale, threshold, keep_probs) -> o, y, out
// k's view is of Kᵀ ([hd, Tk]), v's of V ([Tk, hd]) as UadMatMulBf16's b; y (the probabilities) and out (y · keep)
// are filled only with keep_probs (for the gradient), else empty.
struct AttnAttrs {
  std::vector<int64_t> dims, qs, ks, vs, os;
  std::vector<int64_t> out_shape;
  float alpha = 1, out_scale = 1;
  int64_t threshold = 0;
  bool keep_probs = false;
};
void* CreateAttn(TF_OpKernelConstruction* c) {
  auto* a = new AttnAttrs;
  Status s;
  const char* op = "UadAttentionBf16";
  GetIntList(c, op, "dims", 5, &a->dims, s);
  GetIntList(c, op, "q_strides", 4, &a->qs, s);
  GetIntList(c, op, "k_strides", 4, &a->ks, s);
  GetIntList(c, op, "v_strides", 4, &a->vs, s);
  GetIntList(c, op, "o_strides", 4, &a->os, s);
  GetIntList(c, op, "out_shape", -1, &a->out_shape, s);
  if (TF_GetCode(s) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(c, "alpha", &a->alpha, s);
  if (TF_GetCode(s) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(c, "out_scale", &a->out_scale, s);
  if (TF_GetCode(s) == TF_OK) TF_OpKernelConstruction_GetAttrInt64(c, "threshold", &a->threshold, s);
  if (TF_GetCode(s) == TF_OK) {
    TF_Bool v = 0;
    TF_OpKernelConstruction_GetAttrBool(c, "keep_probs", &v, s);
    a->keep_probs = v != 0;
  }
  if (TF_GetCode(s) != TF_OK) TF_OpKernelConstruction_Failure(c, s);
  return a;
}
void DeleteAttn(void* p) { delete static_cast<AttnAttrs*>(p); }

void AttentionCompute(void* k, TF_OpKernelContext* ctx) {
  const AttnAttrs& a = *static_cast<AttnAttrs*>(k);
  Status s;
  Inputs in;
  Outputs out;
  if (!GetInputs(ctx, 5, &in, s)) return;
  const int64_t z0 = a.dims[0], z1 = a.dims[1], tq = a.dims[2], tk = a.dims[3], hd = a.dims[4];
  int64_t out_n = 1;
  for (int64_t d : a.out_shape) out_n *= d;
  const int64_t rq = Reach(z0, z1, tq, hd, a.qs.data()), rk = Reach(z0, z1, hd, tk, a.ks.data()), rv = Reach(z0, z1, tk, hd, a.vs.data()),
                ro = Reach(z0, z1, tq, hd, a.os.data()), mn = TF_TensorElementCount(in.t[3]);
  const bool empty = z0 * z1 * tq * hd == 0;
  KeepSource keep;
  if (z0 < 0 || z1 < 0 || tq < 0 || tk < 1 || hd < 0 || rq < 0 || rk < 0 || rv < 0 || ro < 0 || a.os[3] != 1 ||
      out_n != z0 * z1 * tq * hd ||
      (!empty && (rq >= TF_TensorElementCount(in.t[0]) || rk >= TF_TensorElementCount(in.t[1]) ||
                  rv >= TF_TensorElementCount(in.t[2]) || ro >= out_n)) ||
      (mn != 0 && mn != tq * tk) || !ReadKeep(in.t[4], a.threshold, &keep)) {
    Fail(ctx, "UadAttentionBf16: the views (dims, strides, out_shape), mask [Tq, Tk] or seed do not fit the tensors");
    return;
  }
  TF_Tensor* o = Alloc(ctx, 0, a.out_shape, s);
  out.t.push_back(o);
  const std::vector<int64_t> probs = {z0, z1, tq, tk}, none = {0};
  TF_Tensor* y = o ? Alloc(ctx, 1, a.keep_probs ? probs : none, s) : nullptr;
  out.t.push_back(y);
  TF_Tensor* dr = y ? Alloc(ctx, 2, a.keep_probs && keep.on ? probs : none, s) : nullptr;
  out.t.push_back(dr);
  if (!dr || empty) return;
  bf16::Attention A{z0, z1, tq, tk, hd,
                    {F(in.t[0]), a.qs[0], a.qs[1], a.qs[2], a.qs[3]},
                    {F(in.t[1]), a.ks[0], a.ks[1], a.ks[2], a.ks[3]},
                    {F(in.t[2]), a.vs[0], a.vs[1], a.vs[2], a.vs[3]},
                    Fm(o), a.os[0], a.os[1], a.os[2],
                    mn ? F(in.t[3]) : nullptr, a.alpha, a.out_scale, keep,
                    a.keep_probs ? Fm(y) : nullptr, a.keep_probs && keep.on ? Fm(dr) : nullptr};
  bf16::RunAttention(A);
}
#endif  // UAD_BF16_GEMM

// ---------------------------------------------------------------------------------------------------------------
// Registration

struct OpSpec {
  const char* name;
  std::vector<const char*> inputs, outputs, attrs;
  void* (*create)(TF_OpKernelConstruction*);
  void (*compute)(void*, TF_OpKernelContext*);
  void (*del)(void*);
};

const std::vector<OpSpec>& Specs() {
  static const std::vector<OpSpec> specs = {
      {"UadLayerNorm", {"x: float", "gamma: float", "beta: float"}, {"y: float", "mean: float", "rstd: float"},
       {"epsilon: float = 1e-5"}, CreateEps, LayerNormCompute, DeleteFloat},
      {"UadLayerNormGrad",
       {"dy: float", "x: float", "mean: float", "rstd: float", "gamma: float"},
       {"dx: float", "dgamma: float", "dbeta: float"},
       {},
       CreateNone,
       LayerNormGradCompute,
       DeleteNone},
      {"UadMaskedSoftmax", {"scores: float", "mask: float", "seed: int32"}, {"y: float", "out: float"},
       {"threshold: int = 0"}, CreateDrop, MaskedSoftmaxCompute, DeleteDrop},
      {"UadMaskedSoftmaxGrad", {"dout: float", "y: float", "seed: int32"}, {"dscores: float"}, {"threshold: int = 0"},
       CreateDrop, MaskedSoftmaxGradCompute, DeleteDrop},
      {"UadDropout", {"x: float", "seed: int32"}, {"y: float"}, {"threshold: int", "scale: float"}, CreateDrop,
       DropoutCompute, DeleteDrop},
      {"UadKeepMask", {"like: float", "seed: int32"}, {"keep: bool"}, {"threshold: int"}, CreateDrop, KeepMaskCompute,
       DeleteDrop},
      {"UadAdamStep",
       {"coef: float", "m: float", "v: float", "params: N * float", "grads: N * float"},
       {"m_out: float", "v_out: float", "params_out: N * float"},
       {"N: int >= 1", "b1: float", "one_minus_b1: float", "b2: float", "one_minus_b2: float", "eps: float",
        "step_size: float", "inv_sqrt_bc2: float", "decay: float", "wd: float", "l2: bool", "decoupled: bool",
        "clipping: bool"},
       CreateAdam,
       AdamCompute,
       DeleteAdam},
      {"UadResidualLayerNorm",
       {"x: float", "h: float", "bias: float", "seed: int32", "gamma: float", "beta: float"},
       {"y: float", "z: float", "mean: float", "rstd: float"},
       {"threshold: int = 0", "scale: float = 1.0", "epsilon: float = 1e-5"},
       CreateRes,
       ResidualLayerNormCompute,
       DeleteRes},
      {"UadResidualLayerNormGrad",
       {"dy: float", "z: float", "mean: float", "rstd: float", "gamma: float", "seed: int32"},
       {"dx: float", "dh: float", "dgamma: float", "dbeta: float", "dbias: float"},
       {"threshold: int = 0", "scale: float = 1.0"},
       CreateRes,
       ResidualLayerNormGradCompute,
       DeleteRes},
      {"UadBiasReluDropout", {"h: float", "bias: float", "seed: int32"}, {"y: float"},
       {"threshold: int = 0", "scale: float = 1.0"}, CreateDrop, BiasReluDropoutCompute, DeleteDrop},
      {"UadBiasReluDropoutGrad", {"dy: float", "y: float"}, {"dh: float", "dbias: float"},
       {"threshold: int = 0", "scale: float = 1.0"}, CreateDrop, BiasReluDropoutGradCompute, DeleteDrop},
      {"UadSplitHeads", {"x: float", "bias: float"}, {"y: float"}, {"heads: int >= 1", "scale: float = 1.0"}, CreateHeads,
       SplitHeadsCompute, DeleteHeads},
      {"UadMergeHeads", {"x: float"}, {"y: float", "colsum: float"}, {"heads: int >= 1", "scale: float = 1.0", "sum: bool = false"},
       CreateHeads, MergeHeadsCompute, DeleteHeads},
      {"UadSumSquares", {"x: N * float"}, {"y: float"}, {"N: int >= 1"}, CreateNone, SumSquaresCompute, DeleteNone},
#ifdef UAD_BF16_GEMM
      {"UadMatMulBf16", {"a: float", "b: float", "bias: float"}, {"c: float"},
       {"dims: list(int)", "a_strides: list(int)", "b_strides: list(int)", "c_strides: list(int)", "out_shape: list(int)",
        "alpha: float = 1.0", "relu: bool = false"},
       CreateMatMul, MatMulCompute, DeleteMatMul},
      {"UadAttentionBf16", {"q: float", "k: float", "v: float", "mask: float", "seed: int32"}, {"o: float", "y: float", "out: float"},
       {"dims: list(int)", "q_strides: list(int)", "k_strides: list(int)", "v_strides: list(int)", "o_strides: list(int)",
        "out_shape: list(int)", "alpha: float = 1.0", "out_scale: float = 1.0", "threshold: int = 0", "keep_probs: bool = false"},
       CreateAttn, AttentionCompute, DeleteAttn},
#endif
  };
  return specs;
}

std::string registered_error;  // empty when every op registered

void RegisterAll() {
  static bool done = false;
  if (done) return;
  done = true;
  Status s;
  for (const auto& op : Specs()) {
    TF_OpDefinitionBuilder* b = TF_NewOpDefinitionBuilder(op.name);
    for (auto* i : op.inputs) TF_OpDefinitionBuilderAddInput(b, i);
    for (auto* o : op.outputs) TF_OpDefinitionBuilderAddOutput(b, o);
    for (auto* a : op.attrs) TF_OpDefinitionBuilderAddAttr(b, a);
    TF_OpDefinitionBuilderSetShapeInferenceFunction(b, &TF_ShapeInferenceContextSetUnknownShape);
    TF_RegisterOpDefinition(b, s);
    if (TF_GetCode(s) != TF_OK) {
      registered_error = std::string(op.name) + ": " + TF_Message(s);
      break;
    }
    TF_KernelBuilder* kb = TF_NewKernelBuilder(op.name, "CPU", op.create, op.compute, op.del);
    TF_RegisterKernelBuilder((std::string(op.name) + "Kernel").c_str(), kb, s);
    if (TF_GetCode(s) != TF_OK) {
      registered_error = std::string(op.name) + " kernel: " + TF_Message(s);
      break;
    }
  }
}

napi_value Ops(napi_env env, napi_callback_info) {
  napi_value arr;
  napi_create_array(env, &arr);
  if (!registered_error.empty()) {
    napi_throw_error(env, nullptr, registered_error.c_str());
    return nullptr;
  }
  uint32_t i = 0;
  for (const auto& op : Specs()) {
    napi_value v;
    napi_create_string_utf8(env, op.name, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, arr, i++, v);
  }
  return arr;
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_int32(env, PoolSize(), &v);
  return v;
}

}  // namespace

NAPI_MODULE_INIT() {
  RegisterAll();
  napi_value f, g;
  napi_create_function(env, "ops", NAPI_AUTO_LENGTH, Ops, nullptr, &f);
  napi_set_named_property(env, exports, "ops", f);
  napi_create_function(env, "threads", NAPI_AUTO_LENGTH, Threads, nullptr, &g);
  napi_set_named_property(env, exports, "threads", g);
  return exports;
}
