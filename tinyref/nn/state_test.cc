// Checkpoints: a round trip is bit-exact for every dtype, and every way a file can be wrong
// (truncated, corrupted, a tensor missing or extra, a dtype or shape that differs) throws a
// tinyref::Error that names the problem and leaves the model exactly as it was.
#include "tinyref/nn/state.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"
#include "tinyref/nn/layers.h"

namespace tinyref::nn {
namespace {

const std::string kDev = "INTERP";

std::string temp_path(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const tinyref::Error& e) {
    return e.what();
  }
  return "";
}

// Every tensor's bytes, for "nothing changed" and "bit-exact" comparisons.
std::vector<NamedBlobs::mapped_type> snapshot(const NamedTensors& state) {
  std::vector<TensorBlob> out;
  for (const auto& [name, blob] : to_blobs(state)) out.push_back(blob);
  return out;
}

bool same(const std::vector<TensorBlob>& a, const std::vector<TensorBlob>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].dtype != b[i].dtype || a[i].shape != b[i].shape || a[i].bytes != b[i].bytes) return false;
  }
  return true;
}

// A small model with every kind of state: float weights, running statistics, an int32 counter.
std::unique_ptr<Sequential> make_model(uint64_t seed, DType dtype = DType::kFloat32) {
  Tensor::manual_seed(seed);
  auto m = std::make_unique<Sequential>();
  m->add(std::make_unique<Conv2d>(1, 3, 3, Conv2dOptions{.dtype = dtype, .device = kDev}));
  m->add(std::make_unique<BatchNorm2d>(3, BatchNorm2dOptions{.dtype = dtype, .device = kDev}));
  m->add("flatten", [](const Tensor& x) { return flatten(x); });
  m->add(std::make_unique<Linear>(12, 2, LinearOptions{.dtype = dtype, .device = kDev}));
  return m;
}

TEST(StateTest, RoundTripIsBitExact) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    for (DType dt : {DType::kFloat32, DType::kFloat64}) {
      auto a = make_model(seed, dt);
      // Move the running statistics and the counter off their initial values.
      (*a)(Tensor::uniform({2, 1, 4, 4}, -3, 3, dt, kDev)).realize();
      realize_all(tensors_of(a->buffers()));
      const std::string path = temp_path("model.safetensors");
      save_state(path, a->state(), {{"note", "test"}});
      auto b = make_model(seed + 100, dt);
      ASSERT_FALSE(same(snapshot(a->state()), snapshot(b->state())));
      load_state(path, b->state());
      EXPECT_TRUE(same(snapshot(a->state()), snapshot(b->state())));
    }
  }
}

TEST(StateTest, EveryDTypeRoundTripsAndFollowsTheFormat) {
  std::mt19937_64 rng(1);
  NamedTensors state = {
      {"f32", Tensor::from_vector(std::vector<float>{1.5f, -0.0f, 3e-38f}, {3}, kDev)},
      {"f64", Tensor::from_vector(std::vector<double>{1e300, -2.5}, {2, 1}, kDev)},
      {"i32", Tensor::from_vector(std::vector<int32_t>{-7, 2147483647}, {2}, kDev)},
      {"u8", Tensor::from_vector(std::vector<uint8_t>{0, 255, 9}, {1, 3}, kDev)},
      {"bool", Tensor::from_vector(std::vector<bool>{true, false}, {2}, kDev)},
      {"scalar", Tensor::from_vector(std::vector<int32_t>{42}, {}, kDev)},
  };
  const std::string path = temp_path("all.safetensors");
  save_state(path, state);
  NamedBlobs blobs = read_safetensors(path);
  EXPECT_EQ(blobs.at("f32").dtype, "F32");
  EXPECT_EQ(blobs.at("f64").dtype, "F64");
  EXPECT_EQ(blobs.at("i32").dtype, "I32");
  EXPECT_EQ(blobs.at("u8").dtype, "U8");
  EXPECT_EQ(blobs.at("bool").dtype, "BOOL");
  EXPECT_EQ(blobs.at("scalar").shape, std::vector<int64_t>{});
  float f = 0;
  std::memcpy(&f, blobs.at("f32").bytes.data(), 4);
  EXPECT_EQ(f, 1.5f);
  NamedTensors target = {
      {"f32", Tensor::zeros({3}, DType::kFloat32, kDev)},   {"f64", Tensor::zeros({2, 1}, DType::kFloat64, kDev)},
      {"i32", Tensor::zeros({2}, DType::kInt32, kDev)},     {"u8", Tensor::zeros({1, 3}, DType::kUInt8, kDev)},
      {"bool", Tensor::zeros({2}, DType::kBool, kDev)},      {"scalar", Tensor::zeros({}, DType::kInt32, kDev)},
  };
  load_state(path, target);
  EXPECT_TRUE(same(snapshot(state), snapshot(target)));
}

struct BadCase {
  std::string name;
  std::function<void(const std::string& good, const std::string& bad)> make;  // writes `bad`
  std::string expected;                                                        // in the message
};

TEST(StateTest, BadCheckpointsThrowAndLoadNothing) {
  auto source = make_model(1);
  const std::string good = temp_path("good.safetensors");
  save_state(good, source->state());
  const std::string bytes = slurp(good);
  uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | static_cast<unsigned char>(bytes[i]);

  std::vector<BadCase> cases = {
      {"truncated in the data", [&](auto, auto bad) { spit(bad, bytes.substr(0, bytes.size() - 5)); }, "truncated"},
      {"truncated in the header", [&](auto, auto bad) { spit(bad, bytes.substr(0, 20)); }, "truncated"},
      {"empty file", [&](auto, auto bad) { spit(bad, ""); }, "truncated"},
      {"garbage header",
       [&](auto, auto bad) {
         std::string b = bytes;
         b[8 + header / 2] = '\x01';
         spit(bad, b);
       },
       "corrupted"},
      {"missing file", [&](auto, auto) {}, "cannot open"},
      {"a tensor missing",
       [&](auto, auto bad) {
         NamedTensors fewer = source->state();
         fewer.erase(fewer.begin() + 1);
         save_state(bad, fewer);
       },
       "\"0.bias\" is missing"},
      {"a shape mismatch",
       [&](auto, auto bad) {
         NamedTensors s = source->state();
         s[0].second = Tensor::zeros({3, 1, 2, 2}, DType::kFloat32, kDev);
         save_state(bad, s);
       },
       "shape (3, 1, 2, 2) in the file, (3, 1, 3, 3) in the model"},
      {"a dtype mismatch",
       [&](auto, auto bad) {
         NamedTensors s = source->state();
         s[0].second = Tensor::zeros({3, 1, 3, 3}, DType::kFloat64, kDev);
         save_state(bad, s);
       },
       "the file holds float64, the model wants float32"},
      {"an unexpected tensor",
       [&](auto, auto bad) {
         NamedTensors s = source->state();
         s.push_back({"9.weight", Tensor::zeros({1}, DType::kFloat32, kDev)});
         save_state(bad, s);
       },
       "\"9.weight\", which the model does not have"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string bad = temp_path("bad_" + std::to_string(&c - cases.data()) + ".safetensors");
    std::remove(bad.c_str());
    c.make(good, bad);
    auto target = make_model(2);
    const auto before = snapshot(target->state());
    const std::string message = error_of([&] { load_state(bad, target->state()); });
    EXPECT_NE(message.find(c.expected), std::string::npos) << "message: " << message;
    EXPECT_TRUE(same(before, snapshot(target->state()))) << "a failed load changed the model";
  }
}

TEST(StateTest, NonStrictLoadIgnoresExtraTensors) {
  auto source = make_model(1);
  NamedTensors s = source->state();
  s.push_back({"extra", Tensor::zeros({1}, DType::kFloat32, kDev)});
  const std::string path = temp_path("extra.safetensors");
  save_state(path, s);
  auto target = make_model(2);
  load_state(path, target->state(), /*strict=*/false);
  EXPECT_TRUE(same(snapshot(source->state()), snapshot(target->state())));
}

TEST(StateTest, DuplicateNamesAreRejected) {
  Tensor t = Tensor::zeros({1}, DType::kFloat32, kDev);
  EXPECT_NE(error_of([&] { save_state(temp_path("dup.safetensors"), {{"a", t}, {"a", t}}); }).find("twice"),
            std::string::npos);
}

}  // namespace
}  // namespace tinyref::nn
