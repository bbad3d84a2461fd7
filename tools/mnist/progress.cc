#include "tools/mnist/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace mnist_tool {

ProgressBar::ProgressBar(int total_steps, std::FILE* out, bool interactive)
    : total_steps_(std::max(total_steps, 1)), out_(out), interactive_(interactive) {}

ProgressBar::ProgressBar(int total_steps, std::FILE* out)
    : ProgressBar(total_steps, out, isatty(fileno(out)) != 0) {}

std::string ProgressBar::format(int step, int total, double loss, double images_per_second,
                                double eta_seconds, int bar_width) {
  std::string text;
  if (bar_width > 0) {
    const int filled = static_cast<int>(std::lround(bar_width * static_cast<double>(step) / total));
    text = "[" + std::string(filled, '#') + std::string(bar_width - filled, '-') + "]  ";
  } else {
    text = "step ";
  }
  const int eta = static_cast<int>(std::lround(std::max(eta_seconds, 0.0)));
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "%d/%d  loss %.3f  %.0f img/s  ETA %d:%02d", step, total,
                loss, images_per_second, eta / 60, eta % 60);
  return text + buffer;
}

void ProgressBar::update(int step, double loss, int images) {
  images_ += images;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? images_ / elapsed : 0.0;
  const double eta = step > 0 ? elapsed / step * (total_steps_ - step) : 0.0;
  if (interactive_) {
    std::fprintf(out_, "\r%s\033[K", format(step, total_steps_, loss, rate, eta, 30).c_str());
  } else {
    // A log gets about ten lines, not one per step.
    const int decile = step * 10 / total_steps_;
    if (decile == last_printed_decile_ && step != total_steps_ && step != 1) return;
    last_printed_decile_ = decile;
    std::fprintf(out_, "%s\n", format(step, total_steps_, loss, rate, eta, 0).c_str());
  }
  std::fflush(out_);
  printed_ = true;
}

void ProgressBar::finish() {
  if (interactive_ && printed_) std::fprintf(out_, "\n");
  std::fflush(out_);
}

}  // namespace mnist_tool
