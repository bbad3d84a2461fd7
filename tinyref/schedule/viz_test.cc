// The schedule picture: one box per kernel, nodes coloured by kernel, a node computed in two
// kernels striped, and the TT_VIZ hook writing a file per realize.
#include "tinyref/schedule/viz.h"

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

int count(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

TEST(ScheduleDot, SoftmaxShowsThreeKernelsAndTheRecomputedExp) {
  Tensor x = Tensor::randn({4, 10}, DType::kFloat32, "INTERP");
  Tensor y = x.softmax(-1);
  const std::string dot = schedule_dot({y.lazy()});
  EXPECT_EQ(count(dot, "after fusion: 3 kernels"), 1) << dot;
  EXPECT_EQ(count(dot, R"re(\n    k\d+ \[shape=box)re"), 3) << dot;
  EXPECT_EQ(count(dot, "peripheries=2"), 3) << "one realize point per kernel\n" << dot;
  // exp(x - max) is computed by the sum's kernel and again by the division's.
  EXPECT_EQ(count(dot, R"re(label="EXP2\\n\(4, 10\)", style=striped)re"), 1) << dot;
  EXPECT_EQ(count(dot, R"re(k0 -> k1)re"), 1) << "the sum's kernel reads the max's\n" << dot;
  EXPECT_EQ(count(dot, R"re(label="EXPAND")re"), 2) << "max and sum are read broadcast\n" << dot;
  EXPECT_EQ(count(dot, "BUFFER"), 1) << "x is the one input buffer\n" << dot;
}

TEST(ScheduleDot, FusedChainIsOneColour) {
  Tensor a = Tensor::randn({8, 8}, DType::kFloat32, "INTERP"), b = Tensor::randn({8, 8}, DType::kFloat32, "INTERP");
  const std::string dot = schedule_dot({((a * b).exp() + 1.0).relu().lazy()});
  EXPECT_EQ(count(dot, "after fusion: 1 kernels"), 1) << dot;
  EXPECT_EQ(count(dot, "striped"), 0) << dot;
  EXPECT_EQ(count(dot, "fillcolor=\"#8dd3c7\""), 6) << "MUL, MUL, EXP2, ADD, MAX and the kernel box\n" << dot;
}

TEST(ScheduleDot, RealizedTensorIsABufferAndNothingToDo) {
  Tensor a = Tensor::randn({3}, DType::kFloat32, "INTERP");
  Tensor b = (a * 2.0).realize();
  const std::string dot = schedule_dot({b.lazy()});
  EXPECT_EQ(count(dot, "after fusion: 0 kernels"), 1) << dot;
  EXPECT_EQ(count(dot, "BUFFER"), 1) << dot;
}

TEST(ScheduleDot, SvgThroughGraphviz) {
  Tensor a = Tensor::randn({4, 4}, DType::kFloat32, "INTERP");
  std::optional<std::string> svg = dot_to_svg(schedule_dot({a.sum({0}).lazy()}));
  if (!svg) GTEST_SKIP() << "Graphviz's dot is not installed (./course setup installs it)";
  EXPECT_NE(svg->find("<svg"), std::string::npos) << svg->substr(0, 200);
  EXPECT_NE(svg->find("after fusion: 1 kernels"), std::string::npos);
  EXPECT_THROW(dot_to_svg("digraph { this is not dot"), Error);
}

TEST(ScheduleDot, TtVizWritesOneFilePerRealize) {
  const std::filesystem::path dir = std::filesystem::path(std::getenv("TEST_TMPDIR")) / "viz";
  testing_util::ScopedEnv viz_dir("TT_VIZ_DIR", dir.c_str()), viz("TT_VIZ", "1");
  Tensor a = Tensor::randn({4, 4}, DType::kFloat32, "INTERP");
  (a + 1.0).realize();
  (a * 3.0).sum().realize();
  viz.set(nullptr);
  (a - 1.0).realize();
  int dots = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) dots += f.path().extension() == ".dot";
  EXPECT_EQ(dots, 2);
}

}  // namespace
}  // namespace tinyref
