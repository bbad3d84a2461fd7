// GpuProgram -> CUDA C: one __global__ function per kernel, what NVRTC compiles for the GPU
// and the emulator compiles for the CPU.
//
//   sum of 1000 floats as a group reduce (256 threads, each adding every 256th number):
//
//   extern "C" __global__ void __launch_bounds__(256) r_1000(float* __restrict__ data0,
//                                                            const float* __restrict__ data1) {
//     const int ridx1 = threadIdx.x;
//     float acc0 = 0.0f;
//     for (int ridx0 = 0; ridx0 < 4; ridx0++) {
//       float val0 = ((((ridx0*256)+ridx1)<1000) ? data1[((ridx0*256)+ridx1)] : 0.0f);
//       if ((((ridx0*256)+ridx1)<1000)) acc0 = (acc0+val0);
//     }
//     __shared__ float partial7[1][256];              // the group's partials, then the tree:
//     partial7[0][threadIdx.x] = acc0;
//     __syncthreads();
//     for (int step = 128; step > 0; step >>= 1) {     //   step 128: thread t adds t+128's
//       if (ridx1 < step && ridx1 + step < 256) {      //   step  64: thread t adds t+64's
//         partial7[0][threadIdx.x] = (partial7[0][threadIdx.x]+partial7[0][threadIdx.x+step]);
//       }                                              //   ...
//       __syncthreads();                               //   step   1: thread 0 holds the sum
//     }
//     acc0 = partial7[0][threadIdx.x-ridx1];
//     if ((ridx1<1)) data0[0] = acc0;
//   }
//
// The group's partials live in __shared__ memory, one copy per block, which every thread of
// the block reads and writes. Between a write and another thread's read of the same element
// there must be a __syncthreads(): every thread of the block waits there until all have
// arrived, so the write is done before the read. Without one, a thread may read its
// neighbour's partial before the neighbour wrote it: a race, wrong on a GPU only sometimes,
// reported by the emulator every time.
//
// Four neighbouring float loads whose first element is a multiple of 4 are one float4 load:
// one 16-byte instruction instead of four. A float4 must sit at a 16-byte aligned address,
// so a view that starts at element 1 cannot use one (a GPU faults: "misaligned address").
//
//   float4 val0 = *((const float4*)(data1 + (gidx1*4)));   // val0.x, val0.y, val0.z, val0.w
#ifndef CH08_RENDER_CUDA_H_
#define CH08_RENDER_CUDA_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ch04/symbolic.h"
#include "ch08/gpu_program.h"

namespace ch08 {

// ch08.3: the kernel's CUDA source: the helpers it needs, then `extern "C" __global__ void
// <name>(...)` with data0 written and the other buffers const, __launch_bounds__ of the
// program's threads, the SPECIALs as const ints of blockIdx.x and threadIdx.x
// (index_expression), every other uop as chapter 6 renders it for the CPU, the group
// combine (group_combine) after uop combine_after, and float4 loads (float4_loads) where
// program.float4 says so. Throws std::invalid_argument for a uop it cannot render.
std::string render_cuda(const GpuProgram& program);

// A DEFINE_ACC as the renderer names it.
struct Accumulator {
  std::string name;  // "acc0"
  ch04::DType dtype = ch04::DType::kFloat32;
  ch04::Op op = ch04::Op::SUM;  // SUM or RMAX
};

// ch08.4: the lines that combine a group's partials, rendered after combine_after: every
// accumulator a into shared memory at [a][threadIdx.x], a barrier, then a tree over the group
// (of any size, not only powers of two) with a barrier after every step, and every accumulator
// read back from the group's first thread. (A kernel has one reduce: its accumulators share
// one dtype and one op.)
std::string group_combine(const GpuProgram& program, const std::vector<Accumulator>& accumulators);

// ch08.5: whether e is a multiple of n for every value of its variables, as far as its form
// shows: constants, sums of multiples, products with a multiple. (A false "no" only costs a
// float4; a false "yes" is a misaligned load.)
bool multiple_of(const ch04::Expr& e, int64_t n);

// Four LOAD uops that are one float4 load: positions in program.uops, element index, +1, +2, +3.
struct Float4Load {
  std::array<int, 4> uops;
};

// ch08.5: the LOADs of a program that can be read as float4: float32 loads of one buffer with
// the same guard (or none), whose indices are i, i+1, i+2, i+3 with i a multiple_of 4, with no
// RANGE or END_RANGE between the first and the last. A load belongs to one group at most.
std::vector<Float4Load> float4_loads(const ch06::Program& program);

}  // namespace ch08

#endif  // CH08_RENDER_CUDA_H_
