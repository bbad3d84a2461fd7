#include "tinyref/codegen/optimizer.h"

#include <cstdlib>

namespace tinyref {

void optimize(Kernel& k, const CodegenOptions& options) {
  if (const char* e = std::getenv("TT_NOOPT"); e != nullptr && *e == '1') return;
  (void)k;
  (void)options;
}

}  // namespace tinyref
