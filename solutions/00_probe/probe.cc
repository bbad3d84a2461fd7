#include "ch00/probe.h"
namespace ch00 { int answer() { return 42; } }
