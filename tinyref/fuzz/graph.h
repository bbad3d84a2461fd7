// A lazy graph as a small program of numbered nodes: what the differential fuzzer (fuzz.h)
// generates at random, realizes in several ways and, when they disagree, shrinks and prints as
// code that rebuilds it.
//
//   FuzzGraph g;
//   int a = g.input({4, 6}, DType::kFloat32, 1);     // values from seed 1 (multiples of 1/4)
//   int b = g.move(a, Op::PERMUTE, {1, 0});
//   int c = g.alu(Op::MUL, {b, b});
//   int d = g.reduce(Op::SUM, c, {1});
//   g.outputs = {c, d};
//   std::cout << g.to_code();                 // these lines again, to paste into a test
//   std::vector<LazyRef> outs = g.build("CPU");   // the lazy graph; nothing runs yet
//
//   FuzzGraph r = random_graph(7);            // a few to a few dozen nodes, every kind of op
//
// Every builder call checks its arguments the way the Tensor front end would (tinyref::Error),
// so a rewired graph that is not valid anymore is recognised (FuzzGraph::checked).
#ifndef TINYREF_FUZZ_GRAPH_H_
#define TINYREF_FUZZ_GRAPH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tinyref/dtype.h"
#include "tinyref/lazy/lazybuffer.h"
#include "tinyref/ops.h"
#include "tinyref/shape/view.h"

namespace tinyref::fuzz {

struct FuzzNode {
  enum class Kind { kInput, kConst, kAlu, kReduce, kMove, kContiguous };
  Kind kind = Kind::kInput;
  Op op = Op::ADD;             // kAlu, kReduce, kMove
  std::vector<int> src;        // earlier nodes
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<int64_t> ints;   // kMove: the new shape (RESHAPE, EXPAND), order (PERMUTE) or 0/1
                               // flags (FLIP); kReduce: the axes
  Pairs pairs;                 // kMove: (before, after) for PAD, [lo, hi) for SHRINK
  double value = 0;            // kConst
  uint64_t seed = 0;           // kInput: where its values come from
  // Whether every value is computed exactly in the dtype (sums and products of multiples of
  // 1/4 that fit the mantissa): then every way of computing it must agree bit for bit, and
  // comparisons, casts to integers and divisions may use it without amplifying rounding.
  bool exact = true;
  double bound = 0;            // |value| <= bound (the inputs' 4 carried through every op)
  double quantum = 1;          // every value a multiple of quantum, where exact
};

struct FuzzGraph {
  std::vector<FuzzNode> nodes;
  std::vector<int> outputs;

  int input(const Shape& shape, DType dtype, uint64_t seed);
  int constant(double value, DType dtype, const Shape& shape);
  int alu(Op op, const std::vector<int>& src, DType cast_to = DType::kFloat32);
  int reduce(Op op, int src, const std::vector<int64_t>& axes);
  int move(int src, Op op, const std::vector<int64_t>& ints, const Pairs& pairs = {});
  int contiguous(int src);

  // The lazy graph on `device`: each output made contiguous (a row-major buffer once realized).
  std::vector<LazyRef> build(const std::string& device) const;
  // C++ that rebuilds this graph with the calls above.
  std::string to_code() const;
  // The same graph with every node derived again by the calls above (its exactness too), or
  // nullopt where a node no longer checks out: how the shrinker tests a rewired graph.
  std::optional<FuzzGraph> checked() const;
  // Only the nodes the outputs need, renumbered in order.
  FuzzGraph without_dead_nodes() const;
  size_t size() const { return nodes.size(); }

 private:
  int add(FuzzNode n);
};

// The values of an input node: deterministic in its seed, small and exact (floats are
// multiples of 1/4 in [-4, 4], int32 in [-8, 8], uint8 in [0, 16]).
std::vector<double> input_values(const FuzzNode& n);

struct RandomGraphOptions {
  int min_steps = 3, max_steps = 16;  // ops added after the first inputs
  int64_t max_elements = 2048;        // per node
};
FuzzGraph random_graph(uint64_t seed, const RandomGraphOptions& options = {});

}  // namespace tinyref::fuzz

#endif  // TINYREF_FUZZ_GRAPH_H_
