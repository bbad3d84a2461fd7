// Prints the graph of the README's worked example as Graphviz DOT, after backward():
//
//   bazel run //chapters/01_scalar_autograd:draw_graph > /tmp/graph.dot
//   dot -Tpng /tmp/graph.dot -o /tmp/graph.png          # Debian: apt-get install graphviz
//
// Built on //chapters:ch01, so `--define ch01=solution` draws it with the solution. Edit the
// expression to look at your own graphs.
#include <iostream>
#include <stdexcept>

#include "ch01/value.h"

int main() {
  try {
    const ch01::Value a(3.0, "a"), b(-2.0, "b"), c(5.0, "c"), f(4.0, "f");
    ch01::Value e = a * b;
    e.set_label("e");
    ch01::Value d = e + c;
    d.set_label("d");
    ch01::Value loss = d * f;
    loss.set_label("L");
    loss.backward();
    std::cout << ch01::to_dot(loss);
    return 0;
  } catch (const std::exception& e) {
    // Before tasks ch01.1, ch01.4 and ch01.5 are done, this is where you land.
    std::cerr << "draw_graph: " << e.what() << "\n";
    return 1;
  }
}
