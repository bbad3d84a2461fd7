// The kernel IR: a flat list of typed single-assignment instructions with explicit loops. The
// linearizer (linearizer.h) produces it, the INTERP backend executes it, and a renderer
// (renderer.h: C++ or CUDA C) prints it into Program::src for a device to compile.
//
//   0 DEFINE_GLOBAL float* buf0            (output)
//   1 DEFINE_GLOBAL float* buf1
//   2 RANGE int 0..1024 parallel           gidx0
//   3 LOAD float x8 (1, 2*8)               a vector of 8 lanes at buf1[gidx0*8]
//   4 ALU MUL float x8 (3, 3)
//   5 STORE (0, 2*8, 4)
//   6 END_RANGE (2)
//
// Values have `lanes` (1, or a SIMD width when the optimizer picked a vector axis). Index
// arithmetic is int32; a gate (a bool operand) masks a LOAD (reads 0) or a STORE.
//
// For a GPU the output loops are replaced by SPECIAL uops (the block and thread index); a
// reduction split across a block's threads leaves partials in DEFINE_LOCAL (shared memory)
// and waits at a BARRIER before combining them.
#ifndef TINYREF_CODEGEN_UOPS_H_
#define TINYREF_CODEGEN_UOPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tinyref/dtype.h"
#include "tinyref/ops.h"

namespace tinyref {

enum class UOpKind {
  kDefineGlobal,  // arg: buffer index. The pointer every LOAD/STORE of that buffer uses.
  kDefineLocal,   // arg: element count. Scratch memory for partial results (GROUP), or
                  // (tag "stage") a tile of an input staged in GPU shared memory (staging.h).
  kDefineAcc,     // value: initial value. A mutable accumulator, reset where it is defined.
  kConst,         // value
  kRange,         // arg: extent; parallel: run iterations on several threads. Value: the index.
  kEndRange,      // src: the RANGE
  kLoad,          // src: buffer, index[, gate]. lanes > 1: consecutive elements from index;
                  // arg 1: the index is a multiple of lanes (an aligned vector access).
  kStore,         // src: buffer, index, value[, gate]; arg as for LOAD. tag "tf32": the value is
                  // rounded to TF32 first (a tensor core's staged operand: staging.h)
  kAlu,           // op: an elementwise op from ops.def
  kAssign,        // src: DEFINE_ACC, value. acc = value
  kVectorize,     // src: `lanes` scalars -> one vector
  kGep,           // src: vector; arg: lane. One lane of a vector.
  kBroadcast,     // src: scalar -> every lane
  kHReduce,       // src: vector; op: SUM or RMAX across its lanes -> scalar
  kSpecial,       // GPU only. arg: extent; tag "gidx" (block index) or "lidx" (thread index).
  kBarrier,       // GPU only. Every thread of the block waits here (before reading DEFINE_LOCAL).
  kMma,           // GPU only. A warp's 16x8x8 TF32 multiply-add (mma.sync m16n8k8): src a0..a3,
                  // b0, b1, c0..c3, this lane's fragments (kernel.h: TensorCoreDims); a float32
                  // vector of 4 lanes, this lane's d0..d3. arg 1: a and b are TF32 already (a
                  // STORE tagged "tf32" rounded them on their way into shared memory: staging.h).
  kCopyAsync,     // GPU only. src: shared array, index, global buffer, index, valid, active; lanes
                  // 1 or 4 (aligned). Where active, starts copying global memory into shared memory
                  // (cp.async), zeros where not valid. Lands by the ASYNC_WAIT that lets its group end.
  kAsyncCommit,   // GPU only. The COPY_ASYNCs this thread started since the last commit: one group.
  kAsyncWait,     // GPU only. arg: how many of this thread's newest groups may still be in flight.
  kWgmma,         // GPU only (compute capability 9.0). A warpgroup's (4 warps, 128 threads) 64xNx8 TF32
                  // multiply-add, A and B read from shared memory by the tensor cores (wgmma.mma_async
                  // m64nNk8): src A's array, A's element offset in it, A's leading- and stride-dimension
                  // byte offsets (CONSTs), the same four for B, then this thread's N/2 accumulators,
                  // which it adds into in place; arg N. Its accumulators hold the sum after the
                  // WGMMA_WAIT that lets its group finish. An operand sits in shared memory K-major,
                  // without swizzle, in core matrices of 8 rows x 4 of K (16 bytes a row, 128 bytes
                  // together): A's row r (B's column r), K k at byte (r%8)*16 + (k%4)*4 + (k/4)*LBO +
                  // (r/8)*SBO from the array's start plus the offset (a multiple of 16 bytes). Thread
                  // t's accumulator i: row 16*(t/32 % 4) + t%32/4 + 8*(i/2 % 2), column 8*(i/4) +
                  // 2*(t%4) + i%2 (per 8 columns, mma.sync's C layout, the 4 warps 16 rows apart).
  kWgmmaFence,    // GPU only. Before a warpgroup's WGMMAs, once its accumulators were touched (wgmma.fence).
  kWgmmaCommit,   // GPU only. The WGMMAs this warpgroup started since the last commit: one group.
  kWgmmaWait,     // GPU only. arg: how many of the newest groups may still be in flight. src (may be
                  // empty): the accumulators the finished groups deliver, which no code may read
                  // before the wait (the renderer pins each after it: c_style.h, wgmma_delivered).
  kProxyFence,    // GPU only. This thread's writes into shared memory become visible to the tensor
                  // cores' reads (fence.proxy.async), before the barrier ahead of a WGMMA.
};

const char* uop_kind_name(UOpKind k);

struct UOp {
  explicit UOp(UOpKind k) : kind(k) {}
  UOpKind kind;
  DType dtype = DType::kInt32;
  int lanes = 1;
  Op op = Op::ADD;
  std::vector<int> src;
  double value = 0;
  int64_t arg = 0;
  bool parallel = false;
  std::string tag;  // RANGE: "gidx", "tidx" or "ridx"; SPECIAL: "gidx" or "lidx" (the variable's name)
};

struct BufferArg {
  DType dtype;
  int64_t size;  // elements
};

struct Program {
  std::string name;              // E_/r_ followed by the loop extents: the C++ function name
  std::vector<UOp> uops;
  std::vector<BufferArg> bufs;   // bufs[0] is the output
  int64_t flops = 0;             // estimates, for TT_DEBUG=2's GFLOPS and GB/s
  int64_t bytes = 0;
  std::string opts;              // the optimizations applied, for TT_DEBUG=3
  // GPU launch dimensions (x only): blocks in the grid and threads in a block, the extents of
  // the SPECIAL gidx and lidx uops. 1 and 1 for programs with loops only (CPU, INTERP).
  int64_t global_size = 1;
  int64_t local_size = 1;
  // Filled by render() (renderer.h) for a device that compiles source: the source, and the name
  // of the function in it that the device calls.
  std::string src;
  std::string entry;
  // Bytes of shared memory a GPU launch provides beside what the kernel declares: where the
  // DEFINE_LOCAL arrays outgrow what a CUDA kernel may declare (48 KB), the renderer carves
  // them from one extern __shared__ block, which the launch sizes (render() fills this in).
  int64_t dynamic_shared_bytes = 0;

  std::string to_string() const;  // one line per uop, as above
};

// What one DEFINE_LOCAL array takes in shared memory: whole 16-byte steps, so that the next one
// starts on a float4 (a staged tile is read as float4s).
int64_t shared_array_bytes(const UOp& array);
// What the program's shared arrays (DEFINE_LOCAL, packed panels aside) take together.
int64_t shared_array_bytes(const Program& program);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_UOPS_H_
