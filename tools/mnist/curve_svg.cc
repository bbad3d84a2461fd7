#include "tools/mnist/curve_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tinyref/error.h"

namespace mnist_tool {

namespace {

constexpr double kWidth = 640, kHeight = 400;
constexpr double kLeft = 60, kRight = 60, kTop = 40, kBottom = 50;

std::string number(double v, int precision) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", precision, v);
  return buffer;
}

// A polyline through (step, value) with both scaled into the plot area.
std::string polyline(const std::vector<std::pair<int, double>>& points, int max_step, double lo,
                     double hi, const char* color) {
  std::ostringstream svg;
  svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
  for (const auto& [step, value] : points) {
    const double x = kLeft + (kWidth - kLeft - kRight) * step / std::max(max_step, 1);
    const double y = kTop + (kHeight - kTop - kBottom) * (1 - (value - lo) / (hi - lo));
    svg << number(x, 1) << "," << number(y, 1) << " ";
  }
  svg << "\"/>\n";
  return svg.str();
}

}  // namespace

std::string render_svg(const TrainingCurve& curve, const std::string& title) {
  int max_step = 1;
  double max_loss = 0;
  for (const auto& [step, loss] : curve.losses) {
    max_step = std::max(max_step, step);
    if (std::isfinite(loss)) max_loss = std::max(max_loss, loss);
  }
  for (const auto& point : curve.accuracies) max_step = std::max(max_step, point.first);
  if (max_loss <= 0) max_loss = 1;
  const double plot_bottom = kHeight - kBottom, plot_right = kWidth - kRight;

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\""
      << kHeight << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
      << title << "</text>\n"
      << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_right - kLeft
      << "\" height=\"" << plot_bottom - kTop << "\" fill=\"none\" stroke=\"#888\"/>\n";
  for (int i = 0; i <= 4; ++i) {  // five ticks on each axis
    const double y = kTop + (plot_bottom - kTop) * i / 4;
    const double x = kLeft + (plot_right - kLeft) * i / 4;
    svg << "<text x=\"" << kLeft - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\" fill=\"#c33\">"
        << number(max_loss * (4 - i) / 4, 2) << "</text>\n"
        << "<text x=\"" << plot_right + 6 << "\" y=\"" << y + 4 << "\" fill=\"#36c\">"
        << number(100.0 * (4 - i) / 4, 0) << "%</text>\n"
        << "<text x=\"" << x << "\" y=\"" << plot_bottom + 18 << "\" text-anchor=\"middle\">"
        << std::lround(max_step * i / 4.0) << "</text>\n";
  }
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"" << kHeight - 10
      << "\" text-anchor=\"middle\">step</text>\n"
      << "<text x=\"14\" y=\"" << kTop - 10 << "\" fill=\"#c33\">training loss</text>\n"
      << "<text x=\"" << kWidth - 14 << "\" y=\"" << kTop - 10
      << "\" text-anchor=\"end\" fill=\"#36c\">test accuracy</text>\n"
      << polyline(curve.losses, max_step, 0, max_loss, "#c33")
      << polyline(curve.accuracies, max_step, 0, 1, "#36c");
  for (const auto& [step, accuracy] : curve.accuracies) {  // accuracy is often a single point
    const double x = kLeft + (plot_right - kLeft) * step / max_step;
    const double y = kTop + (plot_bottom - kTop) * (1 - accuracy);
    svg << "<circle cx=\"" << number(x, 1) << "\" cy=\"" << number(y, 1)
        << "\" r=\"4\" fill=\"#36c\"/>\n";
  }
  if (!curve.accuracies.empty()) {
    svg << "<text x=\"" << plot_right - 6 << "\" y=\"" << plot_bottom - 8
        << "\" text-anchor=\"end\" fill=\"#36c\">final test accuracy "
        << number(100 * curve.accuracies.back().second, 2) << "%</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

void write_svg(const TrainingCurve& curve, const std::string& path, const std::string& title) {
  std::ofstream out(path);
  TT_CHECK(out, "mnist: cannot write the training curve to " << path);
  out << render_svg(curve, title);
  TT_CHECK(out.good(), "mnist: writing the training curve to " << path << " failed");
}

}  // namespace mnist_tool
