// realize(): where lazy nodes become numbers. An Engine takes the nodes a caller wants and
// gives their bases Buffers; chapter 4's engine is an Interpreter that runs one op at a time.
// Chapter 5 installs a scheduler that fuses ops into kernels; chapter 6 compiles them.
//
//   LazyRef y = LazyBuffer::alu(Op::ADD, {a, b})->permute({1, 0});
//   stats() = {};
//   realize({y});                  // engine().realize(...): the Interpreter by default
//   y->realized()                  // true: y's base holds a Buffer; y still reads it as a view
//   stats().kernels                // 1 (ADD; the permute was free)
//
//   {
//     ScopedEngine use(std::make_shared<MyEngine>());   // a test swaps the engine...
//     realize({y});
//   }                                                   // ...and gets the old one back
//
// The Interpreter walks the graph below the outputs in dependency order. Every op reads its
// sources through their ShapeTrackers (a view is never copied into a buffer of its own) and
// writes a fresh contiguous Buffer; a reduce keeps its reduced axes with size 1. Reading a
// padded (invalid) element gives 0. A CONST base realizes into a one-element Buffer.
#ifndef CH04_REALIZE_H_
#define CH04_REALIZE_H_

#include <memory>
#include <string>
#include <vector>

#include "ch04/lazy.h"

namespace ch04 {

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  // Afterwards every out's base holds a Buffer and has forgotten its sources.
  virtual void realize(const std::vector<LazyRef>& outs) = 0;
};

Engine& engine();                            // the current engine: the Interpreter by default
void set_engine(std::shared_ptr<Engine> e);  // chapter 5 installs its scheduler here
void realize(const std::vector<LazyRef>& outs);  // engine().realize(outs)

// Sets an engine for the lifetime of a scope and restores the previous one (tests).
class ScopedEngine {
 public:
  explicit ScopedEngine(std::shared_ptr<Engine> e);
  ~ScopedEngine();
  ScopedEngine(const ScopedEngine&) = delete;
  ScopedEngine& operator=(const ScopedEngine&) = delete;

 private:
  std::shared_ptr<Engine> previous_;
};

// ch04.5: one op at a time, each into a new Buffer (stats().kernels += 1 per op run).
class Interpreter : public Engine {
 public:
  std::string name() const override { return "Interpreter"; }
  void realize(const std::vector<LazyRef>& outs) override;
};

}  // namespace ch04

#endif  // CH04_REALIZE_H_
