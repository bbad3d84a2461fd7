// A kernel: one pass over one shape that writes one buffer. Its body is a small tree (an AST)
// of loads, constants, elementwise ops and at most one reduce, under a STORE. The scheduler
// (schedule.h) cuts the lazy graph into kernels; a KernelRunner (runner.h) runs them: chapter 5
// interprets the tree, chapter 6 compiles it to C++, chapter 8 to CUDA.
//
//   relu(x @ w + b), x (8, 16), w (16, 4), b (4,): ONE kernel over the full shape (8, 4, 16)
//
//   STORE buf0 (8, 4, 1)                  out[i, j]
//     MAX                                 relu
//       ADD                               + b
//         SUM axes (2)                    sum over k of
//           MUL                             x[i, k] * w[k, j]
//             LOAD buf1 (8, 4, 16) strides (16, 0, 1)   x: the same row for every j
//             LOAD buf2 (8, 4, 16) strides (0, 1, 4)    w, read transposed
//         LOAD buf3 (8, 4, 16) strides (0, 1, 0)        b[j], for every i (and every k)
//       CONST 0 (8, 4, 16) strides (0, 0, 0)
//
// Every LOAD and CONST reads through a ShapeTracker of the kernel's full shape: the output's
// axes, then the reduced axes at their full extent (a load after the reduce has stride 0 on
// them). The STORE's ShapeTracker has the output shape: the full shape with the reduced axes
// set to 1 (here (8, 4, 1)), and is contiguous: kernels write fresh row-major buffers.
// A CONST reads 0 where its ShapeTracker is invalid (padding), like a LOAD.
//
//   Kernel k = ...;        // from create_schedule
//   k.name()               // "r_8_4_16": a reduce over the full shape (8, 4, 16); "E_..." otherwise
//   k.buffers[0]           // the lazy node this kernel realizes; k.buffers[1..] the ones it reads
//   to_string(k)           // the tree above, one node a line
//   verify(k)              // throws std::invalid_argument naming what is malformed
#ifndef CH05_KERNEL_H_
#define CH05_KERNEL_H_

#include <memory>
#include <string>
#include <vector>

#include "ch04/dtype.h"
#include "ch04/lazy.h"
#include "ch04/shapetracker.h"

namespace ch05 {

// What a node of a kernel's tree does.
enum class NodeKind {
  kLoad,    // reads buffers[buffer] at st's position (0 where st is invalid)
  kConst,   // value (0 where st is invalid)
  kAlu,     // an elementwise op of ch04::Op on src
  kReduce,  // SUM or RMAX of src[0] over axes
  kStore,   // the root: writes src[0] into buffers[0] through st
};
const char* kind_name(NodeKind kind);  // "LOAD"

struct KernelNode;
using NodeRef = std::shared_ptr<const KernelNode>;

struct KernelNode {
  NodeKind kind = NodeKind::kConst;
  ch04::Op op = ch04::Op::CONST;  // kAlu: the elementwise op; kReduce: SUM or RMAX
  ch04::DType dtype = ch04::DType::kFloat32;
  std::vector<NodeRef> src;       // kAlu: its operands; kReduce and kStore: one
  int buffer = -1;                // kLoad, kStore: index into Kernel::buffers
  ch04::ShapeTracker st;          // kLoad, kConst: full shape; kStore: output shape
  double value = 0;               // kConst
  std::vector<int> axes;          // kReduce: the reduced axes, ascending
};

// Builders, so that a tree reads like the picture above.
NodeRef load(int buffer, ch04::DType dtype, ch04::ShapeTracker st);
NodeRef constant(double value, ch04::DType dtype, ch04::ShapeTracker st);
NodeRef alu(ch04::Op op, std::vector<NodeRef> src);  // dtype: src[0]'s
NodeRef reduce(ch04::Op op, NodeRef src, std::vector<int> axes);
NodeRef store(NodeRef src, ch04::ShapeTracker st);    // buffer 0

struct Kernel {
  NodeRef ast;                          // the kStore root
  std::vector<ch04::LazyRef> buffers;   // bases: [0] is written, the rest are read
  ch04::Shape shape;                    // the full shape (output axes, reduced axes whole)

  const KernelNode* reduce_node() const;  // the one kReduce node, or null
  ch04::Shape output_shape() const;       // the STORE's shape
  std::string name() const;               // "E_4_4" elementwise, "r_64_10_784" with a reduce
};

// The tree as text, one node a line, children indented (a node used twice is printed twice).
std::string to_string(const Kernel& kernel);

// Checks the invariants every runner relies on: one STORE at the root, at most one reduce,
// LOAD/CONST st of the full shape, STORE st contiguous of the output shape, buffer indices in
// range, ops of the right kind and arity, one dtype. Throws std::invalid_argument naming the
// kernel and the problem.
void verify(const Kernel& kernel);

}  // namespace ch05

#endif  // CH05_KERNEL_H_
