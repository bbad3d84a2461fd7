#include "bench/mnist_workload.h"

#include <cstdio>
#include <filesystem>

#include "bench/bench_util.h"
#include "tinyref/error.h"

namespace bench {

void MnistWorkload::add_options(CLI::App& app) {
  app.add_option("--data", data, "folder with the four MNIST IDX files (default: $TT_MNIST_DIR, else datasets/mnist)");
  app.add_option("--steps", steps, "training steps (70 is the workload)")->check(CLI::Range(2, 100000))->capture_default_str();
  app.add_option("--warmup", warmup, "first steps left out of the median")->check(CLI::Range(0, 1000))->capture_default_str();
}

double median_step_ms(const std::vector<double>& step_seconds, int warmup) {
  return 1e3 * median({step_seconds.begin() + warmup, step_seconds.end()});
}

MnistBaselines run_mnist_baselines(const MnistWorkload& w, const BenchFlags& flags, const std::string& bench_name) {
  TT_CHECK(w.warmup < w.steps, bench_name << ": --warmup " << w.warmup << " leaves no step of " << w.steps << " to time");
  const std::string data = w.data.empty() ? datasets::find_mnist_dir() : w.data;
  MnistBaselines b;
  b.train = datasets::load_mnist_from(data, "train");
  b.test = datasets::load_mnist_from(data, "test");
  const nlohmann::json torch = run_torch_anchor(flags, "mnist",
                                                {"--data", std::filesystem::absolute(data).string(), "--steps",
                                                 std::to_string(w.steps), "--mnist-warmup", std::to_string(w.warmup)},
                                                "cnn");
  b.torch_ms = torch.at("step_ms_median").get<double>();
  b.torch_accuracy = torch.at("test_accuracy").get<double>();

  mnist_tool::TrainConfig config = mnist_tool::defaults_for("cnn");
  config.device = flags.device;
  config.steps = w.steps;
  config.eval_every = 0;  // only the final accuracy, outside the timed steps
  b.tinyref = mnist_tool::Trainer(config, b.train, b.test).run();
  b.tinyref_ms = median_step_ms(b.tinyref.step_seconds, w.warmup);
  const nlohmann::json line = {{"workload", "cnn"},
                               {"device", config.device},
                               {"step_ms_median", b.tinyref_ms},
                               {"first_step_seconds", b.tinyref.step_seconds.front()},
                               {"steps", b.tinyref.steps},
                               {"final_loss", b.tinyref.final_loss},
                               {"test_accuracy", b.tinyref.test_accuracy}};
  std::printf("tinyref %s\n", line.dump().c_str());
  return b;
}

}  // namespace bench
