// One tensor followed through tinyref, stage by stage, in the spirit of tinygrad's
// docs/abstractions2.py: each stage printed, then asserted on. Run it to read it:
//
//   bazel test //tinyref:walkthrough_test --test_output=all
//
//   Tensor a + b, .sum()             tensor.cc, tensor_shape.cc     -> lazy graph, nothing runs
//   LazyBuffer bases and views       lazy/lazybuffer.h              -> each with a ShapeTracker
//   create_schedule                  schedule/schedule.h            -> kernels, each an AST
//   Kernel, optimize                 codegen/kernel.h, optimizer.h  -> loops and Opts
//   linearize                        codegen/linearizer.h           -> uops
//   render                           codegen/renderer.h             -> C++ or CUDA C
//   Device::compile, launch          backends/device.h              -> the result
//
// The README's "Follow one tensor" section lists the same path by function; the last test here
// checks that every function it names is defined in the file it names.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/engine/realize.h"
#include "tinyref/schedule/schedule.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

void stage(const std::string& title, const std::string& text) {
  std::cout << "\n==== " << title << "\n" << text << (text.empty() || text.back() == '\n' ? "" : "\n");
}

// The lazy graph under `node`, one line per node, sources indented below it.
void graph_text(const LazyRef& node, int depth, std::ostringstream& os) {
  os << std::string(2 * depth, ' ') << op_name(node->op()) << (node->is_view() ? " (view)" : "")
     << (node->realized() ? " (realized)" : "") << " " << node->st().to_string() << "\n";
  if (node->is_view()) return graph_text(node->base_ref(), depth + 1, os);
  for (const LazyRef& s : node->srcs()) graph_text(s, depth + 1, os);
}
std::string graph_text(const LazyRef& node) {
  std::ostringstream os;
  graph_text(node, 0, os);
  return os.str();
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const CodegenOptions kGpu{.gpu = true, .language = Language::kCuda};

TEST(Walkthrough, SumOfASum) {
  // 1. Tensors: a and b hold data; c and s are recipes.
  Tensor a({1, 2, 3, 4, 5, 6}, {2, 3}, "CPU");
  Tensor b({10, 20, 30, 40, 50, 60}, {2, 3}, "CPU");
  Tensor s = (a + b).sum();
  EXPECT_EQ(s.shape(), Shape{});

  // 2. The lazy graph: s is a view (a reshape to ()) of a SUM base, which keeps its reduced
  //    dims as size 1; the SUM reads an ADD of the two realized buffers.
  stage("lazy graph of (a + b).sum()", graph_text(s.lazy()));
  ASSERT_TRUE(s.lazy()->is_view());
  const LazyRef sum = s.lazy()->base_ref();
  ASSERT_EQ(sum->op(), Op::SUM);
  EXPECT_EQ(sum->shape(), (Shape{1, 1}));
  const LazyRef add = sum->srcs().at(0);
  ASSERT_EQ(add->op(), Op::ADD);
  EXPECT_TRUE(add->srcs().at(0)->realized() && add->srcs().at(1)->realized()) << "a and b hold data";
  EXPECT_FALSE(sum->realized()) << "nothing has run yet";

  // 3. The schedule: ADD fuses into the SUM that consumes it: one kernel, whose AST reads
  //    buffers 1 and 2 through ShapeTrackers of the full (2, 3) shape and stores (1, 1).
  const std::vector<ScheduleItem> items = create_schedule({s.lazy()});
  ASSERT_EQ(items.size(), 1u);
  const std::string ast = print_ast(items[0].ast);
  stage("the kernel's AST", ast);
  EXPECT_EQ(items[0].ast->op, Op::STORE);
  EXPECT_EQ(items[0].ast->src.at(0)->op, Op::SUM);
  EXPECT_EQ(items[0].ast->src.at(0)->src.at(0)->op, Op::ADD);
  EXPECT_EQ(count(ast, "BUFFER"), 2) << ast;

  // 4. The Kernel (loops over the full shape: (2, 3) is contiguous everywhere it is read and
  //    reduced whole, so it merges into one loop of 6) and the CPU optimizer's choices for it.
  const CodegenOptions cpu = get_device("CPU").codegen_options();
  Kernel k(items[0].ast, buffer_args(items[0]));
  std::ostringstream full;
  full << "full shape " << k.full_shape();
  stage("kernel " + k.name(), full.str());
  EXPECT_EQ(k.full_shape(), Shape{6});
  optimize(k, cpu);
  stage("optimized " + k.name(), "opts: " + to_string(k.applied));

  // 5. Uops: a flat list with explicit loops, one store into buf0.
  Program p = linearize(k);
  stage("uops", p.to_string());
  EXPECT_EQ(count(p.to_string(), "DEFINE_GLOBAL"), 3) << "buf0 written, buf1 and buf2 read";
  EXPECT_EQ(count(p.to_string(), " STORE "), 1);
  EXPECT_TRUE(p.src.empty()) << "rendering is a separate step";

  // 6. Rendered: the C++ the CPU compiles, and the same AST lowered for a GPU as CUDA C.
  render(p, cpu.language);
  stage("C++ (entry " + p.entry + ")", p.src);
  EXPECT_NE(p.src.find(p.entry), std::string::npos) << "the device calls program.entry";
  const Program gpu = lower_item(items[0], kGpu);
  stage("CUDA C", gpu.src);
  EXPECT_NE(gpu.src.find("__global__"), std::string::npos);

  // 7. Run: the engine does steps 3-6 itself, compiles (cached) and launches. Realizing s
  //    realizes its base, the SUM: it now holds a Buffer and has dropped its sources.
  s.realize();
  EXPECT_TRUE(sum->realized());
  EXPECT_TRUE(sum->srcs().empty());
  const double total = s.item();
  stage("result", std::to_string(total));
  EXPECT_EQ(total, 231.0) << "21 + 210";
}

TEST(Walkthrough, FusedLinearLayerIsOneKernel) {
  // relu(x @ w + b): matmul is reshape + expand + MUL + SUM; the bias add and the relu (a MAX
  // with 0) are elementwise consumers of the SUM, so they fuse into its kernel.
  std::vector<float> xs(4 * 3), ws(3 * 2), bs = {-20, 5};
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i) - 5;
  for (size_t i = 0; i < ws.size(); ++i) ws[i] = static_cast<float>(i % 4) - 1;
  Tensor x(xs, {4, 3}, "CPU"), w(ws, {3, 2}, "CPU"), b(bs, {2}, "CPU");
  Tensor y = (x.matmul(w) + b).relu();

  stage("lazy graph of relu(x @ w + b)", graph_text(y.lazy()));
  const std::vector<ScheduleItem> items = create_schedule({y.lazy()});
  ASSERT_EQ(items.size(), 1u) << "matmul, bias and relu fuse into one kernel";
  const std::string ast = print_ast(items[0].ast);
  stage("the fused kernel's AST", ast);
  EXPECT_EQ(count(ast, "SUM"), 1) << ast;
  EXPECT_EQ(count(ast, "MAX"), 1) << ast;
  EXPECT_EQ(count(ast, "BUFFER"), 3) << "x, w and b: " << ast;

  const Program cpp = lower_item(items[0], get_device("CPU").codegen_options());
  stage("uops", cpp.to_string());
  stage("C++", cpp.src);
  const Program cuda = lower_item(items[0], kGpu);
  stage("CUDA C", cuda.src);
  EXPECT_NE(cuda.src.find("blockIdx"), std::string::npos) << "outputs spread over blocks";

  std::vector<double> want(4 * 2);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 2; ++j) {
      double acc = bs[j];
      for (int t = 0; t < 3; ++t) acc += static_cast<double>(xs[i * 3 + t]) * ws[t * 2 + j];
      want[i * 2 + j] = acc > 0 ? acc : 0;
    }
  }
  const std::vector<double> got = y.to_doubles();
  std::ostringstream os;
  for (double v : got) os << v << " ";
  stage("result", os.str());
  EXPECT_EQ(got, want) << "small integers: every sum is exact";
}

// The README's reading path: lines "N. `file` `function`: ..." under "## Follow one tensor".
TEST(Walkthrough, ReadmeReadingPathNamesFunctionsWhereTheyAre) {
  const std::string root = std::string(std::getenv("TEST_SRCDIR")) + "/" + std::getenv("TEST_WORKSPACE") + "/tinyref/";
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return in ? ss.str() : std::string();
  };
  const std::string readme = read(root + "README.md");
  ASSERT_FALSE(readme.empty()) << "tinyref/README.md is missing from the test's data";
  const size_t from = readme.find("## Follow one tensor");
  ASSERT_NE(from, std::string::npos) << "tinyref/README.md has no \"## Follow one tensor\" section";
  std::istringstream section(readme.substr(from, readme.find("\n## ", from + 1) - from));
  const std::regex step(R"(^(\d+)\. `([^`]+)` `([^`]+)`)");
  int steps = 0;
  for (std::string line; std::getline(section, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, step)) continue;
    ++steps;
    EXPECT_EQ(std::stoi(m[1]), steps) << "steps are numbered in order: " << line;
    const std::string file = m[2], function = m[3];
    const std::string text = read(root + file);
    EXPECT_FALSE(text.empty()) << "README step " << steps << " names tinyref/" << file
                               << ", which does not exist (or is missing from walkthrough_test's data)";
    EXPECT_NE(text.find(function + "("), std::string::npos)
        << "README step " << steps << ": tinyref/" << file << " defines no " << function << "(...)";
  }
  EXPECT_GE(steps, 10) << "the section lists the path from Tensor to launch";
}

}  // namespace
}  // namespace tinyref
