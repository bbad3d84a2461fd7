// ./course mnist: trains MNIST with tinyref and reports test accuracy, with a progress bar, a
// metrics JSON and a training-curve SVG.
//
//   ./course mnist                              # beautiful_mnist: CNN, Adam, 70 steps of 512
//   ./course mnist --model mlp                  # 784-128-10, SGD 0.1, one epoch of 64s
//   ./course mnist --steps 200 --save cnn.safetensors --metrics runs/cnn.json
//   ./course mnist --load cnn.safetensors      # evaluate a checkpoint
//   ./course mnist --no-replay                 # every step eager (default: record it, replay its kernels)
//   ./course mnist --dataset fashion           # Fashion-MNIST (Debian's dataset-fashion-mnist)
//
// Relative paths are the user's (under `bazel run`, $BUILD_WORKING_DIRECTORY). Without
// --metrics the metrics go to .course/mnist_metrics.json in the workspace, the curve next to
// them (mnist_curve.svg).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "CLI/CLI.hpp"
#include "datasets/mnist.h"
#include "tinyref/error.h"
#include "tinyref/nn/state.h"
#include "tools/mnist/curve_svg.h"
#include "tools/mnist/progress.h"
#include "tools/mnist/train.h"

namespace {

namespace fs = std::filesystem;
using mnist_tool::TrainConfig;

struct Args {
  std::string model = "cnn", dataset = "mnist", device, save, load, metrics;
  int steps = 0, epochs = 0, batch = 0, eval_every = -1;
  uint64_t seed = 0;
  bool no_replay = false;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// A path as the user typed it, made absolute against the directory they typed it in.
fs::path user_path(const std::string& p) {
  const fs::path path(p);
  if (path.is_absolute()) return path;
  const std::string cwd = env("BUILD_WORKING_DIRECTORY");
  return cwd.empty() ? fs::absolute(path) : fs::path(cwd) / path;
}

fs::path default_metrics_path() {
  const std::string workspace = env("BUILD_WORKSPACE_DIRECTORY");
  return (workspace.empty() ? fs::current_path() : fs::path(workspace)) / ".course" / "mnist_metrics.json";
}

// mnist_metrics.json -> mnist_curve.svg; run.json -> run_curve.svg.
fs::path curve_path_for(const fs::path& metrics) {
  std::string stem = metrics.stem().string();
  const std::string suffix = "_metrics";
  if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
    stem.resize(stem.size() - suffix.size());
  }
  return metrics.parent_path() / (stem + "_curve.svg");
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void write_metrics(const fs::path& path, const TrainConfig& c, const std::string& dataset,
                   const mnist_tool::TrainResult& r) {
  nlohmann::json j;
  j["model"] = c.model;
  j["dataset"] = dataset;
  j["device"] = c.device;
  j["test_accuracy"] = r.test_accuracy;
  j["steps"] = r.steps;
  j["train_seconds"] = r.train_seconds;
  j["eval_seconds"] = r.eval_seconds;
  // Steps 1-3 compile kernels (or load them from the cache); the median leaves them out.
  const std::vector<double> later(r.step_seconds.begin() + std::min<size_t>(3, r.step_seconds.size()),
                                  r.step_seconds.end());
  j["step_seconds_median"] = median(later.empty() ? r.step_seconds : later);
  j["step_seconds"] = r.step_seconds;
  j["final_loss"] = r.final_loss;
  j["batch"] = c.batch;
  j["seed"] = c.seed;
  j["optimizer"] = c.optimizer;
  j["lr"] = c.lr;
  j["losses"] = r.curve.losses;
  j["test_accuracies"] = r.curve.accuracies;
  j["eval_images"] = c.eval_images;
  fs::create_directories(path.parent_path());
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  TT_CHECK(out.good(), "mnist: cannot write the metrics to " << path.string());
}

int run(const Args& a) {
  TrainConfig config = mnist_tool::defaults_for(a.model);
  config.device = a.device;
  config.seed = a.seed;
  if (a.batch > 0) config.batch = a.batch;
  if (a.steps > 0) {
    config.steps = a.steps;
    config.epochs = 0;
  } else if (a.epochs > 0) {
    config.epochs = a.epochs;
    config.steps = 0;
  }
  if (a.eval_every >= 0) config.eval_every = a.eval_every;
  config.replay = !a.no_replay;

  const datasets::Dataset dataset = a.dataset == "fashion" ? datasets::Dataset::kFashion : datasets::Dataset::kMnist;
  if (dataset == datasets::Dataset::kMnist && !datasets::mnist_available()) {
    std::fprintf(stderr, "mnist: MNIST is not in %s; run ./course setup\n", datasets::find_mnist_dir().c_str());
    return 1;
  }
  // A missing Fashion-MNIST throws an error naming its Debian package.
  const datasets::Mnist train = datasets::load_dataset(dataset, "train"), test = datasets::load_dataset(dataset, "test");
  mnist_tool::Trainer trainer(config, train, test);
  config = trainer.config();  // with the device resolved

  if (!a.load.empty()) {
    const fs::path path = user_path(a.load);
    tinyref::nn::load_state(path.string(), trainer.model().state());
    const double acc = trainer.evaluate();
    std::printf("checkpoint %s (%s on %s): test accuracy %.2f%% on %zu images\n", path.c_str(), config.model.c_str(),
                config.device.c_str(), 100 * acc, test.labels.size());
    return 0;
  }

  const int total = trainer.total_steps();
  std::printf("training %s on %s with %s: %d steps of %d images (%s, lr %g, seed %llu)\n", config.model.c_str(),
              config.device.c_str(), a.dataset.c_str(), total, config.batch, config.optimizer.c_str(), config.lr,
              static_cast<unsigned long long>(config.seed));
  std::fflush(stdout);
  mnist_tool::ProgressBar bar(total, stdout);
  mnist_tool::TrainResult r = trainer.run([&](const mnist_tool::StepInfo& s) { bar.update(s.step, s.loss, s.images); });
  bar.finish();
  std::printf("test accuracy %.2f%% after %d steps (%.1f s training, %.1f s evaluating)\n", 100 * r.test_accuracy,
              r.steps, r.train_seconds, r.eval_seconds);

  const fs::path metrics = a.metrics.empty() ? default_metrics_path() : user_path(a.metrics);
  write_metrics(metrics, config, a.dataset, r);
  const fs::path curve = curve_path_for(metrics);
  mnist_tool::write_svg(r.curve, curve.string(), config.model + " on " + config.device + ", " +
                                                     std::to_string(r.steps) + " steps");
  std::printf("metrics: %s\ncurve:   %s\n", metrics.c_str(), curve.c_str());
  if (!a.save.empty()) {
    const fs::path path = user_path(a.save);
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
    tinyref::nn::save_state(path.string(), trainer.model().state(),
                            {{"model", config.model}, {"steps", std::to_string(r.steps)},
                             {"test_accuracy", std::to_string(r.test_accuracy)}});
    std::printf("checkpoint: %s\n", path.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Trains MNIST with tinyref (default: tinygrad's beautiful_mnist CNN, 70 Adam steps of 512)", "mnist"};
  Args a;
  app.add_option("--dataset", a.dataset, "mnist, or fashion (Fashion-MNIST, from Debian's dataset-fashion-mnist)")
      ->check(CLI::IsMember({"mnist", "fashion"}))
      ->capture_default_str();
  app.add_option("--model", a.model, "cnn (beautiful_mnist) or mlp (784-128-10)")
      ->check(CLI::IsMember({"cnn", "mlp"}))
      ->capture_default_str();
  auto* steps = app.add_option("--steps", a.steps, "training steps (cnn default 70)")->check(CLI::PositiveNumber);
  app.add_option("--epochs", a.epochs, "passes over the training set (mlp default 1)")
      ->check(CLI::PositiveNumber)
      ->excludes(steps);
  app.add_option("--batch", a.batch, "batch size (cnn 512, mlp 64)")->check(CLI::PositiveNumber);
  app.add_option("--seed", a.seed, "seed of the initialization and the batches")->capture_default_str();
  app.add_option("--device", a.device, "tinyref device (CPU, INTERP, CUDA; any case); default: the best present")
      ->transform(CLI::IsMember({"CPU", "INTERP", "CUDA"}, CLI::ignore_case));
  app.add_option("--eval-every", a.eval_every, "test accuracy every N steps on 2000 images (0: only at the end)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--no-replay", a.no_replay,
               "run every training step eagerly (default: record the step, then replay its kernels)");
  app.add_option("--save", a.save, "write the trained model's state to FILE (safetensors)");
  // Relative paths are the user's: look for --load where they typed it, not in bazel's runfiles.
  const CLI::Validator user_file(
      [](std::string& s) {
        const fs::path p = user_path(s);
        return fs::is_regular_file(p) ? std::string() : "no such file: " + p.string();
      },
      "FILE");
  auto* load = app.add_option("--load", a.load, "evaluate the checkpoint FILE instead of training")->check(user_file);
  app.add_option("--metrics", a.metrics, "metrics JSON path (default .course/mnist_metrics.json); "
                                         "the curve SVG goes next to it")
      ->excludes(load);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "mnist: %s\n\n%s", e.what(), app.help().c_str());
    return 2;
  }
  try {
    return run(a);
  } catch (const tinyref::Error& e) {
    std::fprintf(stderr, "mnist: %s\n", e.what());
    return 1;
  }
}
