// INTERP: runs the kernel IR (codegen/uops.h) directly, one uop at a time, with no compiler.
// It is the executable definition of what each uop means: slow, bounds-checked, and the
// backend every other one is compared with.
//
//   Device& d = get_device("INTERP");      // or TT_DEVICE=INTERP for everything
//   auto k = d.compile(program);           // keeps a copy of the program
//   d.launch(*k, {out_ptr, in_ptr});
#ifndef TINYREF_BACKENDS_INTERP_INTERP_H_
#define TINYREF_BACKENDS_INTERP_INTERP_H_

#include <memory>

#include "tinyref/backends/device.h"

namespace tinyref {

std::unique_ptr<Device> make_interp_device();

}  // namespace tinyref

#endif  // TINYREF_BACKENDS_INTERP_INTERP_H_
