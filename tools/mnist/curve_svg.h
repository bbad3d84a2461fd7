// The training curve as a self-contained SVG: loss (left axis) and accuracy (right axis)
// against step, the picture `./course mnist` writes next to its metrics.
//
//   TrainingCurve curve;
//   curve.losses = {{1, 2.30}, {2, 1.95}, ...};       // (step, training loss)
//   curve.accuracies = {{70, 0.981}};                  // (step, test accuracy in 0..1)
//   write_svg(curve, "mnist_metrics.svg", "beautiful_mnist on CPU");
#ifndef TOOLS_MNIST_CURVE_SVG_H_
#define TOOLS_MNIST_CURVE_SVG_H_

#include <string>
#include <utility>
#include <vector>

namespace mnist_tool {

struct TrainingCurve {
  std::vector<std::pair<int, double>> losses;
  std::vector<std::pair<int, double>> accuracies;
};

std::string render_svg(const TrainingCurve& curve, const std::string& title);

// Throws tinyref::Error naming the path when it cannot be written.
void write_svg(const TrainingCurve& curve, const std::string& path, const std::string& title);

}  // namespace mnist_tool

#endif  // TOOLS_MNIST_CURVE_SVG_H_
