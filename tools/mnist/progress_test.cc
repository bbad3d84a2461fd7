#include "tools/mnist/progress.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace mnist_tool {
namespace {

TEST(ProgressBarTest, FormatsBarStepLossRateAndEta) {
  EXPECT_EQ(ProgressBar::format(35, 70, 0.3124, 1843.4, 21.4, 10),
            "[#####-----]  35/70  loss 0.312  1843 img/s  ETA 0:21");
  EXPECT_EQ(ProgressBar::format(70, 70, 0.1, 2000, 0, 4), "[####]  70/70  loss 0.100  2000 img/s  ETA 0:00");
  EXPECT_EQ(ProgressBar::format(1, 70, 2.3, 10, 125, 0), "step 1/70  loss 2.300  10 img/s  ETA 2:05");
}

// Captures what the bar writes to a file.
std::string run_bar(int total, bool interactive) {
  std::FILE* f = std::tmpfile();
  ProgressBar bar(total, f, interactive);
  for (int step = 1; step <= total; ++step) bar.update(step, 1.0 / step, 64);
  bar.finish();
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
  std::fclose(f);
  return text;
}

TEST(ProgressBarTest, LogOutputIsAboutTenPlainLines) {
  const std::string text = run_bar(1000, false);
  const long lines = std::count(text.begin(), text.end(), '\n');
  EXPECT_GE(lines, 10);
  EXPECT_LE(lines, 12);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find('\033'), std::string::npos);
  EXPECT_NE(text.find("step 1000/1000"), std::string::npos);
}

TEST(ProgressBarTest, TerminalOutputRewritesOneLine) {
  const std::string text = run_bar(20, true);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 20);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

}  // namespace
}  // namespace mnist_tool
