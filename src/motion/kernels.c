// The motion detector's per-cell loops in C, so that the daemon can run under V8's --lite-mode (no
// optimizing compiler, 12-15 MB less memory) without paying for it in motion analysis: interpreted,
// these loops cost 10-36 ms per 320x180 frame, compiled by V8 under 1 ms (docs/motion.md, "Native
// kernels"). Each function is a line-for-line copy of its TypeScript original, named beside it, and
// computes in doubles in the same order, storing to float where the original stores to a Float32Array:
// the results are the same bit for bit, which test/motion/kernels-parity.test.ts checks on random
// inputs and on whole scenes. Built with -ffp-contract=off so that no fused multiply-add changes a
// rounding (ARM has them). Built by scripts/build.mjs and scripts/package.mjs with Node-API 8; without
// it the TypeScript kernels run.
#define NAPI_VERSION 8
#include <math.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

// photometry.ts
#define LIGHT_GROUPS 16
#define GROUP_SHIFT 4
#define SPAN 512
#define CLIP_LEVELS 6
#define LIGHT_SLACK 0.5
// structure.ts
#define RADIUS 2
#define TEXTURE 3.0
#define CORRELATION 0.6
#define GAIN_MIN 0.25
#define GAIN_MAX 4.0
#define LIT_LEVEL 160.0
#define RESIDUAL 2.0
#define WHITE 240.0
#define SATURATING_GAIN 1.15
#define MIN_SAMPLES 9
#define MAD_TO_SD 1.2533
// shift.ts
#define MAX_SHIFT 4
#define CONFIDENCE 0.25
#define MAX_PROFILE 256

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

// A typed array of `type` with at least `least` elements, or 0.
static int typed(napi_env env, napi_value value, napi_typedarray_type type, size_t least, void **data) {
  bool is_typed = false;
  napi_typedarray_type actual;
  size_t length;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &actual, &length, data, NULL, NULL) != napi_ok ||
      actual != type || length < least)
    return 0;
  return 1;
}

static int int_arg(napi_env env, napi_value value, int32_t least, int32_t most, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok && *out >= least && *out <= most;
}

static int args(napi_env env, napi_callback_info info, size_t count, napi_value *argv) {
  size_t argc = count;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == count;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

// Math.round: to the nearest integer, halves up.
static double js_round(double x) {
  double up = ceil(x);
  return up - 0.5 > x ? up - 1 : up;
}

static double js_max(double a, double b) { return a > b ? a : b; }
static double js_min(double a, double b) { return a < b ? a : b; }

// grid.ts binFrame(data, frameWidth, bin, gw, gh, out) -> mean luma
static napi_value bin_frame(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args(env, info, 6, argv)) return fail(env, "binFrame takes 6 arguments");
  int32_t width, bin, gw, gh;
  if (!int_arg(env, argv[1], 1, 1 << 16, &width) || !int_arg(env, argv[2], 1, 64, &bin) ||
      !int_arg(env, argv[3], 1, 1 << 16, &gw) || !int_arg(env, argv[4], 1, 1 << 16, &gh) ||
      (int64_t)gw * bin > width)
    return fail(env, "binFrame: bad sizes");
  uint8_t *data;
  float *out;
  if (!typed(env, argv[0], napi_uint8_array, (size_t)gh * bin * width, (void **)&data) ||
      !typed(env, argv[5], napi_float32_array, (size_t)gw * gh, (void **)&out))
    return fail(env, "binFrame: arrays too short");
  double scale = 1.0 / (bin * bin);
  double total = 0;
  size_t i = 0;
  for (int32_t gy = 0; gy < gh; gy++) {
    size_t top = (size_t)gy * bin * width;
    for (int32_t gx = 0; gx < gw; gx++) {
      uint32_t sum = 0;
      size_t p = top + (size_t)gx * bin;
      for (int32_t dy = 0; dy < bin; dy++, p += width)
        for (int32_t dx = 0; dx < bin; dx++) sum += data[p + dx];
      // The bin 2 case multiplies by 0.25, the general one by 1 / (bin * bin): the same double.
      out[i] = (float)(sum * scale);
      total += sum;
      i++;
    }
  }
  return number(env, (total * scale) / ((double)gw * gh));
}

// grid.ts majority(changed, mask, gw, gh, rows, kept | null, out [count, x0, y0, x1, y1])
static napi_value majority(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!args(env, info, 7, argv)) return fail(env, "majority takes 7 arguments");
  int32_t gw, gh;
  if (!int_arg(env, argv[2], 1, 1 << 16, &gw) || !int_arg(env, argv[3], 1, 1 << 16, &gh))
    return fail(env, "majority: bad sizes");
  size_t n = (size_t)gw * gh;
  uint8_t *changed, *mask, *rows, *kept = NULL;
  int32_t *out;
  napi_valuetype kept_type;
  napi_typeof(env, argv[5], &kept_type);
  if (!typed(env, argv[0], napi_uint8_array, n, (void **)&changed) ||
      !typed(env, argv[1], napi_uint8_array, n, (void **)&mask) ||
      !typed(env, argv[4], napi_uint8_array, n, (void **)&rows) ||
      (kept_type != napi_null && !typed(env, argv[5], napi_uint8_array, n, (void **)&kept)) ||
      !typed(env, argv[6], napi_int32_array, 5, (void **)&out))
    return fail(env, "majority: arrays too short");
  for (int32_t y = 0; y < gh; y++) {
    size_t o = (size_t)y * gw;
    uint32_t left = 0, mid = changed[o];
    for (int32_t x = 0; x < gw; x++) {
      uint32_t right = x + 1 < gw ? changed[o + x + 1] : 0;
      rows[o + x] = (uint8_t)(left + mid + right);
      left = mid;
      mid = right;
    }
  }
  int32_t count = 0, x0 = gw, y0 = gh, x1 = -1, y1 = -1;
  for (int32_t y = 0; y < gh; y++) {
    size_t o = (size_t)y * gw;
    for (int32_t x = 0; x < gw; x++) {
      uint32_t votes = rows[o + x];
      if (y > 0) votes += rows[o - gw + x];
      if (y + 1 < gh) votes += rows[o + gw + x];
      if (votes < 5 || mask[o + x] == 0) {
        if (kept) kept[o + x] = 0;
        continue;
      }
      if (kept) kept[o + x] = 1;
      count++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  out[0] = count;
  out[1] = x0;
  out[2] = y0;
  out[3] = x1;
  out[4] = y1;
  return NULL;
}

// shift.ts ShiftEstimator#along(frame, background, gw, x0, y0, rw, rh, columns) -> cells or NaN
static napi_value along(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!args(env, info, 8, argv)) return fail(env, "along takes 8 arguments");
  int32_t gw, x0, y0, rw, rh;
  bool columns;
  if (!int_arg(env, argv[2], 1, 1 << 16, &gw) || !int_arg(env, argv[3], 0, 1 << 16, &x0) ||
      !int_arg(env, argv[4], 0, 1 << 16, &y0) || !int_arg(env, argv[5], 2, MAX_PROFILE, &rw) ||
      !int_arg(env, argv[6], 2, MAX_PROFILE, &rh) || x0 + rw > gw ||
      napi_get_value_bool(env, argv[7], &columns) != napi_ok)
    return fail(env, "along: bad region");
  size_t least = (size_t)(y0 + rh - 1) * gw + x0 + rw;
  float *frame, *background;
  if (!typed(env, argv[0], napi_float32_array, least, (void **)&frame) ||
      !typed(env, argv[1], napi_float32_array, least, (void **)&background))
    return fail(env, "along: arrays too short");
  int32_t len = columns ? rw : rh;
  double c[MAX_PROFILE] = {0}, b[MAX_PROFILE] = {0}, cost[2 * MAX_SHIFT + 1];
  for (int32_t y = 0; y < rh; y++) {
    size_t i = (size_t)(y0 + y) * gw + x0;
    for (int32_t x = 0; x < rw; x++, i++) {
      int32_t k = columns ? x : y;
      c[k] = c[k] + frame[i];
      b[k] = b[k] + background[i];
    }
  }
  double nc = 0, nb = 0;
  for (int32_t k = 0; k + 1 < len; k++) {
    c[k] = c[k + 1] - c[k];
    b[k] = b[k + 1] - b[k];
    nc += fabs(c[k]);
    nb += fabs(b[k]);
  }
  int32_t n = len - 1;
  if (nc < (double)n * 4 * (columns ? rh : rw) * 0.05 || nb == 0) return number(env, NAN);
  double sc = n / nc, sb = n / nb;
  int32_t best = 0;
  double sum = 0;
  for (int32_t s = -MAX_SHIFT; s <= MAX_SHIFT; s++) {
    double total = 0;
    int32_t count = 0;
    for (int32_t k = MAX_SHIFT; k < n - MAX_SHIFT; k++) {
      total += fabs(c[k + s] * sc - b[k] * sb);
      count++;
    }
    double v = total / count;
    cost[s + MAX_SHIFT] = v;
    sum += v;
    if (v < cost[best]) best = s + MAX_SHIFT;
  }
  double mean = sum / (2 * MAX_SHIFT + 1);
  double min = cost[best];
  if (mean <= 0 || (mean - min) / mean < CONFIDENCE) return number(env, NAN);
  double at = best - MAX_SHIFT;
  if (best > 0 && best < 2 * MAX_SHIFT) {
    double l = cost[best - 1], r = cost[best + 1];
    double curve = l - 2 * min + r;
    if (curve > 0) at += js_max(-0.5, js_min(0.5, (0.5 * (l - r)) / curve));
  }
  return number(env, at);
}

// shift.ts shiftInto(background, gw, gh, dx, dy, out, slack)
static napi_value shift_into(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!args(env, info, 7, argv)) return fail(env, "shiftInto takes 7 arguments");
  int32_t gw, gh;
  double dx, dy;
  if (!int_arg(env, argv[1], 1, 1 << 16, &gw) || !int_arg(env, argv[2], 1, 1 << 16, &gh) ||
      napi_get_value_double(env, argv[3], &dx) != napi_ok || napi_get_value_double(env, argv[4], &dy) != napi_ok ||
      !isfinite(dx) || !isfinite(dy) || fabs(dx) > 1 << 16 || fabs(dy) > 1 << 16)
    return fail(env, "shiftInto: bad sizes or shift");
  size_t n = (size_t)gw * gh;
  float *background, *out, *slack;
  if (!typed(env, argv[0], napi_float32_array, n, (void **)&background) ||
      !typed(env, argv[5], napi_float32_array, n, (void **)&out) ||
      !typed(env, argv[6], napi_float32_array, n, (void **)&slack))
    return fail(env, "shiftInto: arrays too short");
  double fx = dx - floor(dx), fy = dy - floor(dy);
  int32_t ix = (int32_t)floor(dx), iy = (int32_t)floor(dy);
  for (int32_t y = 0; y < gh; y++) {
    int32_t sy1 = y - iy;
    int32_t sy0 = fy > 0 ? sy1 - 1 : sy1;
    bool row_out = sy0 < 0 || sy1 >= gh;
    for (int32_t x = 0; x < gw; x++) {
      size_t i = (size_t)y * gw + x;
      int32_t sx1 = x - ix;
      int32_t sx0 = fx > 0 ? sx1 - 1 : sx1;
      if (row_out || sx0 < 0 || sx1 >= gw) {
        out[i] = background[i];
        slack[i] = 255;
        continue;
      }
      double a = background[(size_t)sy0 * gw + sx0];
      double b = background[(size_t)sy0 * gw + sx1];
      double c = background[(size_t)sy1 * gw + sx0];
      double d = background[(size_t)sy1 * gw + sx1];
      out[i] = (float)((a + b + c + d) * 0.25);
      double lo = js_min(js_min(a, b), js_min(c, d));
      double hi = js_max(js_max(a, b), js_max(c, d));
      slack[i] = (float)((hi - lo) * 0.5);
    }
  }
  return NULL;
}

static int32_t light_group(double level) {
  return level >= 255 ? LIGHT_GROUPS - 1 : level <= 0 ? 0 : (int32_t)level >> GROUP_SHIFT;
}

// photometry.ts LightEstimator#fit, its first loop: lightHistogram(frame, background, skip, hist, count, sum)
static napi_value light_histogram(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args(env, info, 6, argv)) return fail(env, "lightHistogram takes 6 arguments");
  float *frame, *background;
  uint8_t *skip;
  uint32_t *hist;
  double *count, *sum;
  size_t n;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, argv[0], &type, &n, (void **)&frame, NULL, NULL) != napi_ok ||
      type != napi_float32_array || !typed(env, argv[1], napi_float32_array, n, (void **)&background) ||
      !typed(env, argv[2], napi_uint8_array, n, (void **)&skip) ||
      !typed(env, argv[3], napi_uint32_array, LIGHT_GROUPS * SPAN, (void **)&hist) ||
      !typed(env, argv[4], napi_float64_array, LIGHT_GROUPS, (void **)&count) ||
      !typed(env, argv[5], napi_float64_array, LIGHT_GROUPS, (void **)&sum))
    return fail(env, "lightHistogram: bad arrays");
  memset(hist, 0, sizeof(uint32_t) * LIGHT_GROUPS * SPAN);
  memset(count, 0, sizeof(double) * LIGHT_GROUPS);
  memset(sum, 0, sizeof(double) * LIGHT_GROUPS);
  for (size_t i = 0; i < n; i += 2) {
    if (skip[i] == 1) continue;
    double b = background[i];
    int32_t g = light_group(b);
    double d = js_round(frame[i] - b) + 256;
    int32_t bucket = d < 0 ? 0 : d >= SPAN ? SPAN - 1 : (int32_t)d;
    hist[g * SPAN + bucket]++;
    count[g] += 1;
    sum[g] += b;
  }
  return NULL;
}

// photometry.ts litDiff
static double lit_diff(double b, double c, double slope, double offset, double slack_share) {
  double p = b + slope * b + offset;
  p = p < 0 ? 0 : js_min(p, 255);
  double slack = slack_share * (p > b ? p - b : b - p);
  double d;
  if (b > CLIP_LEVELS && b < 255 - CLIP_LEVELS) {
    d = c > p ? c - p : p - c;
  } else {
    double lo = js_min(p, b), hi = js_max(p, b);
    d = c < lo ? lo - c : c > hi ? c - hi : 0;
  }
  return d > slack ? d - slack : 0;
}

// photometry.ts litBackground
static double lit_background(double b, double c, double slope, double offset) {
  double p = b + slope * b + offset;
  p = p < 0 ? 0 : js_min(p, 255);
  double lo = js_min(p, b), hi = js_max(p, b);
  return c < lo ? lo : js_min(c, hi);
}

// structure.ts lightOnly
static bool light_only(const float *cur, const float *ref, int32_t i, int32_t gw, int32_t gh, double noise,
                       double residual_allowed) {
  int32_t y = i / gw;
  int32_t x = i - y * gw;
  int32_t xa = x - RADIUS > 0 ? x - RADIUS : 0;
  int32_t xb = x + RADIUS < gw - 1 ? x + RADIUS : gw - 1;
  int32_t ya = y - RADIUS > 0 ? y - RADIUS : 0;
  int32_t yb = y + RADIUS < gh - 1 ? y + RADIUS : gh - 1;
  int32_t n = 0;
  double sc = 0, sp = 0, scc = 0, spp = 0, scp = 0;
  double sppu = 0, sppv = 0, sppuu = 0, sppvv = 0, sppuv = 0, scpu = 0, scpv = 0;
  double own = cur[i];
  bool white = own >= WHITE && own >= ref[i];
  for (int32_t yy = ya; yy <= yb; yy++) {
    int32_t j = yy * gw + xa;
    for (int32_t xx = xa; xx <= xb; xx++, j++) {
      double c = cur[j];
      if (c >= WHITE) continue;
      double p = ref[j];
      double u = xx - x;
      double v = yy - y;
      double pp = p * p;
      double cp = c * p;
      n++;
      sc += c;
      sp += p;
      scc += c * c;
      spp += pp;
      scp += cp;
      sppu += pp * u;
      sppv += pp * v;
      sppuu += pp * u * u;
      sppvv += pp * v * v;
      sppuv += pp * u * v;
      scpu += cp * u;
      scpv += cp * v;
    }
  }
  if (n < MIN_SAMPLES) return white;
  if (white) return spp > 0 && scp / spp >= SATURATING_GAIN;
  double sigma = noise * MAD_TO_SD;
  double mc = sc / n;
  double mp = sp / n;
  double vp = spp / n - mp * mp;
  if (vp > TEXTURE * TEXTURE * sigma * sigma) {
    double vc = scc / n - mc * mc;
    if (vc <= 0) return false;
    double ratio = sqrt(vc / vp);
    if (ratio < GAIN_MIN || ratio > js_max(GAIN_MAX, LIT_LEVEL / mp)) return false;
    return (scp / n - mc * mp) / sqrt(vc * vp) >= CORRELATION;
  }
  double a11 = spp, a12 = sppu, a13 = sppv, a22 = sppuu, a23 = sppuv, a33 = sppvv;
  double m11 = a22 * a33 - a23 * a23;
  double m12 = a12 * a33 - a23 * a13;
  double m13 = a12 * a23 - a22 * a13;
  double det = a11 * m11 - a12 * m12 + a13 * m13;
  if (!(det > 1e-9 * a11 * a11 * a11)) return false;
  double g = (scp * m11 - a12 * (scpu * a33 - a23 * scpv) + a13 * (scpu * a23 - a22 * scpv)) / det;
  double gu = (a11 * (scpu * a33 - a23 * scpv) - scp * m12 + a13 * (a12 * scpv - scpu * a13)) / det;
  double gv = (a11 * (a22 * scpv - scpu * a23) - a12 * (a12 * scpv - scpu * a13) + scp * m13) / det;
  if (g < GAIN_MIN || g > js_max(GAIN_MAX, LIT_LEVEL / mp)) return false;
  double fit = g * scp + gu * scpu + gv * scpv;
  double quad = g * g * a11 + gu * gu * a22 + gv * gv * a33 + 2 * (g * gu * a12 + g * gv * a13 + gu * gv * a23);
  double residual = (scc - 2 * fit + quad) / n;
  return residual <= residual_allowed * residual_allowed * sigma * sigma;
}

// structure.ts lightOnly(cur, ref, i, gw, gh, noise, residualAllowed), for the parity tests.
static napi_value light_only_call(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!args(env, info, 7, argv)) return fail(env, "lightOnly takes 7 arguments");
  int32_t i, gw, gh;
  double noise, residual;
  if (!int_arg(env, argv[3], 1, 1 << 16, &gw) || !int_arg(env, argv[4], 1, 1 << 16, &gh) ||
      !int_arg(env, argv[2], 0, gw * gh - 1, &i) || napi_get_value_double(env, argv[5], &noise) != napi_ok ||
      napi_get_value_double(env, argv[6], &residual) != napi_ok)
    return fail(env, "lightOnly: bad arguments");
  float *cur, *ref;
  if (!typed(env, argv[0], napi_float32_array, (size_t)gw * gh, (void **)&cur) ||
      !typed(env, argv[1], napi_float32_array, (size_t)gw * gh, (void **)&ref))
    return fail(env, "lightOnly: arrays too short");
  napi_value result;
  napi_get_boolean(env, light_only(cur, ref, i, gw, gh, noise, residual), &result);
  return result;
}

// detector.ts nearestDiff
static double nearest_diff(const float *bg, int32_t i, int32_t gw, int32_t gh, double c, double d, bool steady,
                           double slope, double offset) {
  int32_t y = i / gw;
  int32_t x = i - y * gw;
  double best = d;
  int32_t y_end = y + 1 < gh - 1 ? y + 1 : gh - 1;
  int32_t x_end = x + 1 < gw - 1 ? x + 1 : gw - 1;
  for (int32_t yy = y - 1 > 0 ? y - 1 : 0; yy <= y_end; yy++) {
    for (int32_t xx = x - 1 > 0 ? x - 1 : 0; xx <= x_end; xx++) {
      double b = bg[yy * gw + xx];
      double e = steady ? (c > b ? c - b : b - c) : lit_diff(b, c, slope, offset, LIGHT_SLACK);
      if (e < best) best = e;
    }
  }
  return best;
}

static double floor_at(const float *floor_by_level, double b) {
  int32_t level = (int32_t)b;
  return floor_by_level[level < 0 ? 0 : level > 255 ? 255 : level];
}

// The parameters of compare(), in this order in its Float64Array (compare.ts, COMPARE_PARAMS).
enum {
  P_SLOPE, P_OFFSET, P_ABSORB, P_SHAKEN, P_SHAKY, P_AVERAGED, P_K, P_STILL_MS, P_DT, P_A_BG, P_A_FG, P_A_DEV,
  P_A_FAST, P_GW, P_GH, P_UNSURE_MS, P_NOISY, P_FAST_SHARE, P_SLOW_AGREE, P_NOISE_FLOOR, P_RESIDUAL_MEAN,
  P_COUNT
};

// compare.ts compareCells(cells, params, out [count, fresh, inMask])
static napi_value compare(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  if (!args(env, info, 16, argv)) return fail(env, "compare takes 16 arguments");
  double *p;
  int32_t *out;
  if (!typed(env, argv[14], napi_float64_array, P_COUNT, (void **)&p) ||
      !typed(env, argv[15], napi_int32_array, 3, (void **)&out))
    return fail(env, "compare: bad params");
  if (!(p[P_GW] >= 1 && p[P_GW] <= 1 << 16 && p[P_GH] >= 1 && p[P_GH] <= 1 << 16))
    return fail(env, "compare: bad grid");
  int32_t gw = (int32_t)p[P_GW], gh = (int32_t)p[P_GH];
  size_t n = (size_t)gw * gh;
  float *f[9];
  for (int k = 0; k < 9; k++)
    if (!typed(env, argv[k], napi_float32_array, n, (void **)&f[k])) return fail(env, "compare: cells too short");
  float *floor_by_level;
  if (!typed(env, argv[9], napi_float32_array, 256, (void **)&floor_by_level))
    return fail(env, "compare: floor table too short");
  uint8_t *u[4];
  for (int k = 0; k < 4; k++)
    if (!typed(env, argv[10 + k], napi_uint8_array, n, (void **)&u[k])) return fail(env, "compare: flags too short");
  float *cur = f[0], *prev = f[1], *bg = f[2], *ref = f[3], *dev = f[4], *still = f[5], *fast = f[6], *fdev = f[7],
        *slack = f[8];
  uint8_t *unsure = u[0], *changed = u[1], *mask = u[2], *lit = u[3];
  double slope = p[P_SLOPE], offset = p[P_OFFSET], k = p[P_K], still_ms = p[P_STILL_MS], dt = p[P_DT];
  double a_bg = p[P_A_BG], a_fg = p[P_A_FG], a_dev = p[P_A_DEV], a_fast = p[P_A_FAST];
  double unsure_ms = p[P_UNSURE_MS], noisy = p[P_NOISY], fast_share = p[P_FAST_SHARE];
  double slow_agree = p[P_SLOW_AGREE], noise_floor = p[P_NOISE_FLOOR], residual_mean = p[P_RESIDUAL_MEAN];
  bool absorb = p[P_ABSORB] != 0, shaken = p[P_SHAKEN] != 0, shaky = p[P_SHAKY] != 0, averaged = p[P_AVERAGED] != 0;
  bool steady = slope == 0 && offset == 0;
  int32_t count = 0, fresh = 0, in_mask = 0;
  for (int32_t i = 0; i < (int32_t)n; i++) {
    double b = bg[i];
    double c = cur[i];
    double noise = dev[i];
    double least = floor_at(floor_by_level, b);
    double limit = k * js_max(noise, least);
    if (unsure[i] == 1) {
      changed[i] = 0;
      double run = c > b ? c - b : b - c;
      if (run > limit) {
        count++;
        still[i] = 0;
        bg[i] = (float)c;
        continue;
      }
      double held = still[i] + dt;
      bg[i] = (float)(b + ((c - b) * dt) / (held + dt));
      if (held >= unsure_ms) {
        unsure[i] = 0;
        still[i] = 0;
      } else {
        still[i] = (float)held;
      }
      continue;
    }
    double d = steady ? (c > b ? c - b : b - c) : lit_diff(b, c, slope, offset, LIGHT_SLACK);
    if (shaken) {
      double doubt = slack[i];
      d = d > doubt ? d - doubt : 0;
    }
    if (shaky && d > limit) d = nearest_diff(ref, i, gw, gh, c, d, steady, slope, offset);
    double base = absorb ? lit_background(b, c, slope, offset) : b;
    double fv = fast[i] + a_fast * (c - fast[i]);
    fast[i] = (float)fv;
    double df = fv > b ? fv - b : b - fv;
    double fnoise = fdev[i];
    double now = c - b;
    bool slow = averaged && noise >= noisy && df > k * js_max(fnoise, least * fast_share) && now * (fv - b) > 0 &&
                (now > 0 ? now : -now) >= slow_agree * df;
    if (d <= limit && !slow) {
      changed[i] = 0;
      still[i] = 0;
      bg[i] = (float)(base + a_bg * (c - base));
      dev[i] = (float)(noise + a_dev * (d - noise));
      fdev[i] = (float)(fnoise + a_dev * (df - fnoise));
      continue;
    }
    lit[i] = (d <= limit ? light_only(fast, ref, i, gw, gh, js_max(js_max(fnoise, least * fast_share), noise_floor),
                                      residual_mean)
                         : light_only(cur, ref, i, gw, gh, js_max(noise, least), RESIDUAL))
                 ? 1
                 : 0;
    count++;
    double c0 = prev[i];
    bool moved = (c > c0 ? c - c0 : c0 - c) > limit;
    if (moved) fresh++;
    double held = moved ? 0 : still[i] + dt;
    if (held >= still_ms) {
      changed[i] = 0;
      still[i] = 0;
      bg[i] = (float)c;
    } else {
      uint8_t counts = mask[i];
      changed[i] = counts;
      in_mask += counts;
      still[i] = (float)held;
      bg[i] = (float)(base + a_fg * (c - base));
    }
  }
  out[0] = count;
  out[1] = fresh;
  out[2] = in_mask;
  return NULL;
}

// detector.ts MotionDetector#weigh's loop: weigh(cur, bg, dev, floor, unsure, k, slope, offset, stride, out
// [plain, lit, sampled])
static napi_value weigh(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!args(env, info, 10, argv)) return fail(env, "weigh takes 10 arguments");
  float *cur, *bg, *dev, *floor_by_level;
  uint8_t *unsure;
  int32_t *out, stride;
  double k, slope, offset;
  size_t n;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, argv[0], &type, &n, (void **)&cur, NULL, NULL) != napi_ok ||
      type != napi_float32_array || !typed(env, argv[1], napi_float32_array, n, (void **)&bg) ||
      !typed(env, argv[2], napi_float32_array, n, (void **)&dev) ||
      !typed(env, argv[3], napi_float32_array, 256, (void **)&floor_by_level) ||
      !typed(env, argv[4], napi_uint8_array, n, (void **)&unsure) ||
      napi_get_value_double(env, argv[5], &k) != napi_ok || napi_get_value_double(env, argv[6], &slope) != napi_ok ||
      napi_get_value_double(env, argv[7], &offset) != napi_ok || !int_arg(env, argv[8], 1, 1 << 16, &stride) ||
      !typed(env, argv[9], napi_int32_array, 3, (void **)&out))
    return fail(env, "weigh: bad arguments");
  int32_t plain = 0, lit = 0, sampled = 0;
  for (size_t i = 0; i < n; i += stride) {
    if (unsure[i] == 1) continue;
    double b = bg[i];
    double c = cur[i];
    double noise = dev[i];
    double limit = k * js_max(noise, floor_at(floor_by_level, b));
    if (fabs(c - b) > limit) plain++;
    if (lit_diff(b, c, slope, offset, 0) > limit) lit++;
    sampled++;
  }
  out[0] = plain;
  out[1] = lit;
  out[2] = sampled;
  return NULL;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {
      {"binFrame", bin_frame},   {"majority", majority},         {"along", along},
      {"shiftInto", shift_into}, {"lightHistogram", light_histogram}, {"lightOnly", light_only_call},
      {"compare", compare},      {"weigh", weigh},
  };
  for (size_t k = 0; k < sizeof functions / sizeof functions[0]; k++) {
    napi_value fn;
    if (napi_create_function(env, functions[k].name, NAPI_AUTO_LENGTH, functions[k].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, functions[k].name, fn) != napi_ok)
      return NULL;
  }
  return exports;
}
