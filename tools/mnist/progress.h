// A training progress bar that degrades to plain lines when the output is not a terminal.
//
//   ProgressBar bar(/*total_steps=*/70, stdout);
//   for (int step = 1; step <= 70; ++step) {
//     ... train ...
//     bar.update(step, loss, /*images=*/512);
//   }
//   bar.finish();
//
// On a terminal:  [#########-----------]  31/70  loss 0.312  1843 img/s  ETA 0:21
// In a log file:  step 31/70  loss 0.312  1843 img/s  ETA 0:21   (about every 10% of the run)
#ifndef TOOLS_MNIST_PROGRESS_H_
#define TOOLS_MNIST_PROGRESS_H_

#include <chrono>
#include <cstdio>
#include <string>

namespace mnist_tool {

class ProgressBar {
 public:
  ProgressBar(int total_steps, std::FILE* out, bool interactive);
  ProgressBar(int total_steps, std::FILE* out);  // interactive when `out` is a terminal

  // `images`: how many images this step consumed, for the throughput.
  void update(int step, double loss, int images);
  void finish();

  // The text of one update, without the terminal control characters (for tests).
  static std::string format(int step, int total, double loss, double images_per_second,
                            double eta_seconds, int bar_width);

 private:
  using Clock = std::chrono::steady_clock;
  int total_steps_;
  std::FILE* out_;
  bool interactive_;
  Clock::time_point start_ = Clock::now();
  long images_ = 0;
  int last_printed_decile_ = -1;
  bool printed_ = false;
};

}  // namespace mnist_tool

#endif  // TOOLS_MNIST_PROGRESS_H_
