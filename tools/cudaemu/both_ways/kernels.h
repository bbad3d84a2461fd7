// The kernels of kernels.cu, run on inputs made from a seed, their outputs returned. The file is
// built twice: natively by nvcc into namespace native, and through the emulator into namespace
// emulated (BOTH_WAYS_NS names the namespace), and both_ways_test.cc compares the two.
//
//   std::string error;
//   std::vector<native::Output> gpu = native::run_kernels(7, &error);   // error: "no CUDA device"?
//   std::vector<emulated::Output> cpu = emulated::run_kernels(7, &error);
//
// No include guard: the test includes this header once per namespace.
#include <string>
#include <vector>

namespace BOTH_WAYS_NS {

struct Output {
  std::string kernel;
  bool exact;  // only IEEE arithmetic (+ - * /, no contraction): the same bits both ways
  std::vector<float> values;
};

// Every kernel once; on failure, error says why and the outputs are those that ran.
std::vector<Output> run_kernels(unsigned seed, std::string* error);

// The inputs run_kernels makes from a seed: n floats in [-1, 1) (a linear congruential generator).
std::vector<float> inputs(unsigned seed, int n);

}  // namespace BOTH_WAYS_NS
