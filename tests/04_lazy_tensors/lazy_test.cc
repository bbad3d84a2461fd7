// Task 4: the lazy graph. Building computes nothing (a counter proves it); movement ops make
// views that share their base and allocate nothing; identical nodes are one node; a realized
// base forgets its sources, so the graph behind it is freed (a counter of live nodes proves it).
#include <random>

#include "ch04/lazy.h"
#include "ch04/realize.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace {

using ch04::DType;
using ch04::LazyBuffer;
using ch04::LazyRef;
using ch04::Op;

LazyRef load(const ch04::Shape& shape, DType dtype = DType::kFloat32) {
  auto buf = std::make_shared<ch04::Buffer>(dtype, ch04::prod(shape));
  for (int64_t i = 0; i < buf->numel; ++i) buf->set(i, static_cast<double>(i % 7) - 3);
  return LazyBuffer::load(buf, shape);
}

TEST(Task4LazyGraph, BuildingComputesNothing) {
  const LazyRef a = load({4, 5}), b = load({4, 5});
  ch04::stats() = {};
  LazyRef y = LazyBuffer::alu(Op::MUL, {a, LazyBuffer::alu(Op::EXP2, {b})});
  y = y->permute({1, 0})->reduce(Op::SUM, {1});
  y = LazyBuffer::alu(Op::ADD, {y, LazyBuffer::constant(1.5, DType::kFloat32, {5, 1})});
  EXPECT_EQ(ch04::stats().kernels, 0) << "no kernel may run before realize()";
  EXPECT_EQ(ch04::stats().buffers, 0) << "no buffer may be allocated before realize()";
  EXPECT_FALSE(y->realized());
  EXPECT_EQ(y->shape(), (ch04::Shape{5, 1})) << "a reduce keeps its reduced axes, with size 1";
  EXPECT_EQ(y->op(), Op::ADD);
  EXPECT_FALSE(y->is_view()) << "an elementwise op makes a base";
}

TEST(Task4LazyGraph, MovementOpsMakeViewsOfTheSameBase) {
  const LazyRef a = load({2, 3, 4});
  const LazyRef base = LazyBuffer::alu(Op::NEG, {a});
  ch04::stats() = {};
  const LazyRef v = base->permute({2, 0, 1})->reshape({4, 6})->pad({{1, 0}, {0, 2}})->shrink({{1, 5}, {0, 6}})
                        ->flip({true, false})->reshape({4, 1, 6})->expand({4, 3, 6});
  EXPECT_EQ(ch04::stats().buffers, 0) << "a movement op copies nothing and allocates nothing";
  EXPECT_TRUE(v->is_view()) << "movement ops make views";
  EXPECT_EQ(v->base(), base) << "every view reads the base it started from (views of views are views of the base)";
  EXPECT_EQ(v->shape(), (ch04::Shape{4, 3, 6}));
  EXPECT_EQ(v->op(), Op::EXPAND) << "a view reports the movement op that made it";
  EXPECT_TRUE(v->srcs().empty()) << "a view has no sources of its own: only its base";
  const LazyRef back = base->permute({1, 0, 2})->permute({1, 0, 2});
  EXPECT_EQ(back, base) << "a view that reads its base as it is, is the base";
  EXPECT_EQ(base->reshape({2, 3, 4}), base) << "a movement op that changes nothing returns the node itself";
  EXPECT_EQ(base->pad({{0, 0}, {0, 0}, {0, 0}}), base);
}

TEST(Task4LazyGraph, IdenticalNodesAreOneNode) {
  const LazyRef a = load({3, 4}), b = load({3, 4});
  EXPECT_EQ(LazyBuffer::alu(Op::ADD, {a, b}), LazyBuffer::alu(Op::ADD, {a, b})) << "the same op on the same sources";
  EXPECT_NE(LazyBuffer::alu(Op::ADD, {a, b}), LazyBuffer::alu(Op::ADD, {b, a})) << "sources in another order";
  EXPECT_NE(LazyBuffer::alu(Op::ADD, {a, b}), LazyBuffer::alu(Op::SUB, {a, b})) << "another op";
  EXPECT_EQ(a->reduce(Op::SUM, {0}), a->reduce(Op::SUM, {0}));
  EXPECT_NE(a->reduce(Op::SUM, {0}), a->reduce(Op::SUM, {1})) << "sums over axis 0 and axis 1 differ: the key needs the arg";
  EXPECT_NE(a->reduce(Op::SUM, {0}), a->reduce(Op::RMAX, {0}));
  EXPECT_EQ(a->reduce(Op::SUM, {1, 0}), a->reduce(Op::SUM, {0, 1})) << "the axes are a set";
  EXPECT_EQ(a->permute({1, 0}), a->permute({1, 0})) << "the same view twice";
  EXPECT_NE(a->pad({{0, 1}, {0, 0}}), a->pad({{1, 0}, {0, 0}})) << "pads on different sides";
  EXPECT_EQ(LazyBuffer::constant(2, DType::kFloat32, {3, 4}), LazyBuffer::constant(2, DType::kFloat32, {3, 4}));
  EXPECT_NE(LazyBuffer::constant(2, DType::kFloat32, {}), LazyBuffer::constant(3, DType::kFloat32, {}))
      << "constants 2 and 3: the key needs the value";
  EXPECT_NE(LazyBuffer::constant(2, DType::kFloat32, {}), LazyBuffer::constant(2, DType::kFloat64, {}))
      << "a float32 2 and a float64 2: the key needs the dtype";
  EXPECT_NE(load({3, 4}), load({3, 4})) << "two loads are two pieces of data, never shared";
  const LazyRef shared = LazyBuffer::alu(Op::MUL, {a, b});
  const int64_t live = LazyBuffer::live_nodes();
  const LazyRef again = LazyBuffer::alu(Op::MUL, {a, b});
  EXPECT_EQ(LazyBuffer::live_nodes(), live) << "asking for an existing node makes no new one";
}

TEST(Task4LazyGraph, AConstantIsAViewOfOneScalar) {
  const LazyRef c = LazyBuffer::constant(0.1, DType::kFloat32, {2, 3});
  EXPECT_EQ(c->shape(), (ch04::Shape{2, 3}));
  EXPECT_EQ(c->base()->op(), Op::CONST);
  EXPECT_TRUE(c->base()->shape().empty()) << "the CONST base has shape ()";
  EXPECT_EQ(c->base()->arg().value, static_cast<double>(0.1f)) << "the value rounded to float32";
  ASSERT_EQ(c->st().views.size(), 1u);
  EXPECT_EQ(c->st().views[0].strides, (ch04::Shape{0, 0})) << "every element reads the one value";
  EXPECT_EQ(c->const_value(), static_cast<double>(0.1f));
  EXPECT_EQ(LazyBuffer::constant(7, DType::kFloat64, {})->op(), Op::CONST) << "a scalar constant is the base itself";
}

TEST(Task4LazyGraph, ReductionsKeepAxesAndCheckThem) {
  const LazyRef a = load({2, 1, 5});
  const LazyRef s = a->reduce(Op::RMAX, {2, 0, 2});
  EXPECT_EQ(s->shape(), (ch04::Shape{1, 1, 1}));
  EXPECT_EQ(s->op(), Op::RMAX);
  EXPECT_EQ(s->srcs().size(), 1u);
  EXPECT_EQ(s->srcs()[0], a);
  EXPECT_EQ(a->reduce(Op::SUM, {1}), a) << "summing an axis of size 1 changes nothing";
  EXPECT_EQ(a->reduce(Op::SUM, {}), a) << "no axes: the node itself";
  try {
    a->reduce(Op::SUM, {3});
    ADD_FAILURE() << "SUM over axis 3 of a 3-d node should throw ch04::ShapeError";
  } catch (const ch04::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("(2, 1, 5)"), std::string::npos) << "name the shape: " << e.what();
  }
}

TEST(Task4LazyGraph, ElementwiseOpsCheckShapesAndDtypes) {
  const LazyRef a = load({2, 3}), b = load({3, 2}), d = load({2, 3}, DType::kFloat64);
  try {
    LazyBuffer::alu(Op::ADD, {a, b});
    ADD_FAILURE() << "ADD of (2, 3) and (3, 2) should throw ch04::ShapeError";
  } catch (const ch04::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("ADD") != std::string::npos && msg.find("(2, 3)") != std::string::npos &&
                msg.find("(3, 2)") != std::string::npos)
        << "name the op and both shapes: " << msg;
  }
  EXPECT_THROW(LazyBuffer::alu(Op::MUL, {a, d}), std::invalid_argument) << "float32 * float64";
  EXPECT_THROW(LazyBuffer::alu(Op::WHERE, {a, a}), std::invalid_argument) << "WHERE needs three sources";
  EXPECT_EQ(LazyBuffer::alu(Op::CMPLT, {d, d})->dtype(), DType::kFloat64) << "comparisons give 0/1 in their dtype";
}

// An engine that computes nothing: it gives the outputs' bases fresh buffers, so this task's
// tests need no interpreter (that is task 5).
class GiveBuffers : public ch04::Engine {
 public:
  std::string name() const override { return "GiveBuffers"; }
  void realize(const std::vector<LazyRef>& outs) override {
    for (const LazyRef& out : outs) {
      LazyRef b = out->base();
      b->set_realized(std::make_shared<ch04::Buffer>(b->dtype(), b->numel()));
    }
  }
};

TEST(Task4LazyGraph, RealizingForgetsTheGraphBehind) {
  ch04::ScopedEngine engine(std::make_shared<GiveBuffers>());
  const int64_t before = LazyBuffer::live_nodes();
  LazyRef y;
  {
    LazyRef x = load({8, 8});
    for (int i = 0; i < 20; ++i) {
      x = LazyBuffer::alu(Op::ADD, {x->permute({1, 0}), LazyBuffer::constant(1, DType::kFloat32, {8, 8})});
    }
    y = x;
  }
  EXPECT_GT(LazyBuffer::live_nodes(), before + 20) << "the unrealized chain is alive: y needs it";
  ch04::realize({y});
  ASSERT_TRUE(y->realized());
  EXPECT_TRUE(y->srcs().empty()) << "a realized base forgets its sources";
  EXPECT_EQ(LazyBuffer::live_nodes(), before + 1)
      << "after set_realized only y may stay alive: the 20 ADDs, their views, the constants and the load must be freed";
}

TEST(Task4LazyGraph, SetRealizedKeepsTheBuffer) {
  const LazyRef a = load({2, 2});
  const LazyRef y = LazyBuffer::alu(Op::NEG, {a});
  auto buf = std::make_shared<ch04::Buffer>(DType::kFloat32, 4);
  y->set_realized(buf);
  EXPECT_TRUE(y->realized());
  EXPECT_EQ(y->buffer(), buf);
  EXPECT_TRUE(y->srcs().empty());
  EXPECT_TRUE(y->permute({1, 0})->realized()) << "a view of a realized base is realized";
}

}  // namespace
