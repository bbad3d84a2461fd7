// Under the emulator, <device_launch_parameters.h> is the emulator's prelude (tools/cudaemu/prelude.h): the same
// names, emulated. This folder is on the include path of code built by cuda_emu_library only.
#include "tools/cudaemu/prelude.h"
