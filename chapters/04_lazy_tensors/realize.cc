#include "ch04/realize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_set>

#include "chapters/course.h"

namespace ch04 {

// ---------------------------------------------------------------------------- the engine hook (given)

namespace {
std::shared_ptr<Engine>& current_engine() {
  static auto* e = new std::shared_ptr<Engine>(std::make_shared<Interpreter>());
  return *e;
}
}  // namespace

Engine& engine() { return *current_engine(); }
void set_engine(std::shared_ptr<Engine> e) { current_engine() = e ? std::move(e) : std::make_shared<Interpreter>(); }
void realize(const std::vector<LazyRef>& outs) { engine().realize(outs); }

ScopedEngine::ScopedEngine(std::shared_ptr<Engine> e) : previous_(current_engine()) { set_engine(std::move(e)); }
ScopedEngine::~ScopedEngine() { set_engine(std::move(previous_)); }

// ---------------------------------------------------------------------------- ch04.5: the interpreter
//
// TODO(ch04.5): Interpreter::realize. In three steps (README.md, task 5, has the pictures):
//  1. the unrealized bases below `outs`, each after the bases it reads (a post-order walk
//     over srcs(); a source that is a view is read from its base; an unrealized CONST is read
//     in place and needs no step of its own, unless it is an output itself);
//  2. for each: a fresh Buffer of its dtype and size, filled by its op, every source read
//     through its ShapeTracker (padding reads 0): elementwise ops element by element, SUM and
//     RMAX over the axes in arg().ints (the output keeps them with size 1), CONTIGUOUS a copy,
//     CONST its one value; stats().kernels += 1;
//  3. set_realized(buffer) on it.
// Make it right first (ShapeTracker::index for every element is fine), then fast enough for
// the milestone: whole rows along one axis, read in place where the stride is 1, and OpenMP
// over rows (the README's "Making it fast").

void Interpreter::realize(const std::vector<LazyRef>& outs) {
  throw course::NotImplemented("ch04.5: Interpreter::realize");
}

}  // namespace ch04
