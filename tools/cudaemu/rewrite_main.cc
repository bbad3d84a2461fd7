// cudaemu_rewrite: one .cu file in, the C++ the emulator compiles out (rewrite.h).
//
//   cudaemu_rewrite kernels.cu kernels.emu.cc [--prelude tools/cudaemu/prelude.h] [--name path/kernels.cu]
//
// --name is the file name that #line gives the compiler (and reports): the .cu's path in the
// repository, not the sandbox's. Exits 1 with "file:line: what" on input it cannot follow.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tools/cudaemu/rewrite.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: cudaemu_rewrite IN.cu OUT.cc [--prelude HEADER] [--name NAME]\n";
    return 2;
  }
  cudaemu::RewriteOptions options;
  options.file = argv[1];
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--prelude") {
      options.prelude = argv[i + 1];
    } else if (flag == "--name") {
      options.file = argv[i + 1];
    } else {
      std::cerr << "cudaemu_rewrite: unknown option " << flag << "\n";
      return 2;
    }
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cudaemu_rewrite: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::stringstream source;
  source << in.rdbuf();
  try {
    const std::string out = cudaemu::rewrite_cuda(source.str(), options);
    std::ofstream(argv[2]) << out;
  } catch (const cudaemu::RewriteError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
