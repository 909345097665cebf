// kernels/dtype: bf16 / f16 <-> f32 against references computed independently in
// double (exhaustively over all 65536 half patterns, and on a million random floats
// for the rounding direction), plus the special values and unaligned conversion.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/dtype.h"

namespace k = attnscope::kernels;

namespace {

// The value of a binary16 pattern, from the IEEE 754 definition, in double.
double f16_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0x1f)
    return mantissa ? std::numeric_limits<double>::quiet_NaN() : sign * std::numeric_limits<double>::infinity();
  if (exponent == 0) return sign * std::ldexp(double(mantissa), -24);
  return sign * std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
}

// The nearest of two neighbouring encodings lo < hi (as values), ties to the even
// encoding: the rounding rule of IEEE 754 and of PyTorch.
uint16_t nearest_even(double x, uint16_t lo, double lo_value, uint16_t hi, double hi_value) {
  const double dlo = std::fabs(x - lo_value), dhi = std::fabs(hi_value - x);
  if (dlo < dhi) return lo;
  if (dhi < dlo) return hi;
  return (lo & 1) ? hi : lo;
}

// Reference f32 -> f16 for a finite positive float, by locating x between the two
// positive f16 encodings around it (the positive encodings are ordered by value).
uint16_t reference_f32_to_f16_positive(float f) {
  const double x = f;
  if (x >= 65520.0) return 0x7c00;  // 65520 is halfway to 65536 = 2^16, rounds to inf (odd 0x7bff)
  uint16_t lo = 0;
  uint16_t hi = 0x7bff;
  while (hi - lo > 1) {  // largest encoding <= x is lo
    const uint16_t mid = uint16_t((lo + hi) / 2);
    if (f16_value(mid) <= x) lo = mid;
    else hi = mid;
  }
  if (f16_value(hi) <= x) lo = hi;
  if (f16_value(lo) == x || lo == 0x7bff) return lo;
  return nearest_even(x, lo, f16_value(lo), uint16_t(lo + 1), f16_value(uint16_t(lo + 1)));
}

// Reference f32 -> bf16 for a finite float: bf16 keeps the top 16 bits, so the two
// candidates are the truncation and the next encoding up in magnitude.
uint16_t reference_f32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t truncated = uint16_t(bits >> 16);
  const double x = std::fabs(double(f));
  const double lo = std::fabs(double(k::bf16_to_f32(truncated)));
  if (lo == x) return truncated;
  const uint16_t up = uint16_t(truncated + 1);
  const double hi = (up & 0x7fff) == 0x7f80 ? std::ldexp(1.0, 128) : std::fabs(double(k::bf16_to_f32(up)));
  return nearest_even(x, truncated, lo, up, hi);
}

float random_float(std::mt19937& rng, int min_exponent, int max_exponent) {
  std::uniform_int_distribution<uint32_t> mantissa(0, 0x7fffff);
  std::uniform_int_distribution<int> exponent(min_exponent, max_exponent);
  std::uniform_int_distribution<int> sign(0, 1);
  const uint32_t bits = (uint32_t(sign(rng)) << 31) | (uint32_t(exponent(rng) + 127) << 23) | mantissa(rng);
  return std::bit_cast<float>(bits);
}

}  // namespace

TEST_CASE("f16_to_f32 decodes every half pattern exactly", "[dtype]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float got = k::f16_to_f32(uint16_t(h));
    const double want = f16_value(uint16_t(h));
    if (std::isnan(want)) {
      REQUIRE(std::isnan(got));
    } else {
      REQUIRE(double(got) == want);  // every half is exactly a float: no tolerance
      REQUIRE(std::signbit(got) == bool(h & 0x8000));
    }
  }
}

TEST_CASE("f16 and bf16 round trips are exact for every pattern", "[dtype]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float half = k::f16_to_f32(uint16_t(h));
    const float brain = k::bf16_to_f32(uint16_t(h));
    if (std::isnan(half)) REQUIRE(std::isnan(k::f16_to_f32(k::f32_to_f16(half))));
    else REQUIRE(k::f32_to_f16(half) == h);
    if (std::isnan(brain)) REQUIRE(std::isnan(k::bf16_to_f32(k::f32_to_bf16(brain))));
    else REQUIRE(k::f32_to_bf16(brain) == h);
  }
}

TEST_CASE("f32_to_f16 rounds to nearest even like IEEE 754", "[dtype]") {
  std::mt19937 rng(11);
  for (int i = 0; i < 200000; ++i) {
    // Exponents from below the smallest subnormal (2^-24) to above the largest half.
    const float f = random_float(rng, -27, 16);
    const uint16_t want = uint16_t(reference_f32_to_f16_positive(std::fabs(f)) | (std::signbit(f) ? 0x8000 : 0));
    INFO("f = " << f);
    REQUIRE(k::f32_to_f16(f) == want);
  }
  // Hand-picked ties and boundaries.
  CHECK(k::f32_to_f16(1.0f + 0x1p-11f) == 0x3c00);          // tie -> even (1.0)
  CHECK(k::f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02);      // tie -> even (1 + 2^-9)
  CHECK(k::f32_to_f16(65504.0f) == 0x7bff);                 // largest half
  CHECK(k::f32_to_f16(65519.99f) == 0x7bff);
  CHECK(k::f32_to_f16(65520.0f) == 0x7c00);                 // tie above max -> inf
  CHECK(k::f32_to_f16(0x1p-24f) == 0x0001);                 // smallest subnormal
  CHECK(k::f32_to_f16(0x1p-25f) == 0x0000);                 // tie between 0 and 2^-24 -> 0
  CHECK(k::f32_to_f16(0x1.000002p-25f) == 0x0001);          // just above the tie
  CHECK(k::f32_to_f16(3 * 0x1p-25f) == 0x0002);             // tie 1.5 ulp -> even (2)
  CHECK(k::f32_to_f16(0x1p-14f) == 0x0400);                 // smallest normal
  CHECK(k::f32_to_f16(0x1.ff8p-15f) == 0x03ff);             // largest subnormal
  CHECK(k::f32_to_f16(0x1.ffcp-15f) == 0x0400);             // tie above it -> even (2^-14)
  CHECK(k::f32_to_f16(-0.0f) == 0x8000);
  CHECK(k::f32_to_f16(1e-30f) == 0x0000);
}

TEST_CASE("f32_to_f16 maps inf and NaN", "[dtype]") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(k::f32_to_f16(inf) == 0x7c00);
  CHECK(k::f32_to_f16(-inf) == 0xfc00);
  CHECK(k::f32_to_f16(3.0e38f) == 0x7c00);
  const uint16_t nan = k::f32_to_f16(std::numeric_limits<float>::quiet_NaN());
  CHECK((nan & 0x7c00) == 0x7c00);
  CHECK((nan & 0x03ff) != 0);
  // A signalling NaN whose payload lives only in the low bits must stay a NaN.
  CHECK(std::isnan(k::f16_to_f32(k::f32_to_f16(std::bit_cast<float>(0x7f800001u)))));
}

TEST_CASE("f32_to_bf16 rounds to nearest even like PyTorch", "[dtype]") {
  std::mt19937 rng(12);
  for (int i = 0; i < 1000000; ++i) {
    const float f = random_float(rng, -126, 127);
    INFO("f = " << f);
    REQUIRE(k::f32_to_bf16(f) == reference_f32_to_bf16(f));
  }
  // Subnormal floats are subnormal bf16s, rounded the same way.
  for (int i = 0; i < 100000; ++i) {
    const float f = std::bit_cast<float>(uint32_t(rng()) & 0x807fffffu);
    REQUIRE(k::f32_to_bf16(f) == reference_f32_to_bf16(f));
  }
  CHECK(k::f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);  // tie -> even (1.0)
  CHECK(k::f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);  // tie -> even
  CHECK(k::f32_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds up to inf
  CHECK(k::f32_to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(k::f32_to_bf16(-std::numeric_limits<float>::infinity()) == 0xff80);
  CHECK(k::f32_to_bf16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(k::f32_to_bf16(0x1p-133f) == 0x0001);  // smallest bf16 subnormal
  // NaNs stay NaN, including one whose payload is only in the dropped low half.
  CHECK(std::isnan(k::bf16_to_f32(k::f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(k::bf16_to_f32(k::f32_to_bf16(std::bit_cast<float>(0x7f800001u)))));
  CHECK(std::isnan(k::bf16_to_f32(k::f32_to_bf16(std::bit_cast<float>(0xff800001u)))));
}

TEST_CASE("convert_to_f32 reads any alignment for every dtype", "[dtype]") {
  std::mt19937 rng(13);
  std::vector<float> values(37);
  for (float& v : values) v = random_float(rng, -20, 20);
  for (std::size_t offset = 0; offset < 4; ++offset) {
    std::vector<unsigned char> bytes(values.size() * 4 + 8);
    std::vector<float> out(values.size());

    std::memcpy(bytes.data() + offset, values.data(), values.size() * 4);
    k::convert_to_f32(bytes.data() + offset, k::DType::F32, values.size(), out.data());
    CHECK(out == values);

    std::vector<float> want(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const uint16_t b = k::f32_to_bf16(values[i]);
      std::memcpy(bytes.data() + offset + 2 * i, &b, 2);
      want[i] = k::bf16_to_f32(b);
    }
    k::convert_to_f32(bytes.data() + offset, k::DType::BF16, values.size(), out.data());
    CHECK(out == want);

    for (std::size_t i = 0; i < values.size(); ++i) {
      const uint16_t h = k::f32_to_f16(values[i]);
      std::memcpy(bytes.data() + offset + 2 * i, &h, 2);
      want[i] = k::f16_to_f32(h);
    }
    k::convert_to_f32(bytes.data() + offset, k::DType::F16, values.size(), out.data());
    CHECK(out == want);
  }
}

TEST_CASE("dtype names parse the safetensors spellings only", "[dtype]") {
  CHECK(k::dtype_from_name("F32") == k::DType::F32);
  CHECK(k::dtype_from_name("F16") == k::DType::F16);
  CHECK(k::dtype_from_name("BF16") == k::DType::BF16);
  CHECK_FALSE(k::dtype_from_name("f32").has_value());
  CHECK_FALSE(k::dtype_from_name("F64").has_value());
  CHECK(k::dtype_size(k::DType::BF16) == 2);
  CHECK(k::dtype_name(k::DType::F16) == "F16");
}

TEST_CASE("converting no elements touches no pointer, null ones included", "[dtype]") {
  // An empty tensor's views are null; memcpy(null, null, 0) is undefined behaviour (UBSan).
  for (const k::DType type : {k::DType::F32, k::DType::F16, k::DType::BF16})
    CHECK_NOTHROW(k::convert_to_f32(nullptr, type, 0, nullptr));
}
