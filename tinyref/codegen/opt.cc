#include "tinyref/codegen/opt.h"

#include <sstream>

namespace tinyref {

namespace {
constexpr OptKind kAllKinds[] = {OptKind::kVector, OptKind::kUpcast,   OptKind::kUnroll,
                                 OptKind::kLocal,  OptKind::kGroup,    OptKind::kBlock,
                                 OptKind::kStream, OptKind::kParallel, OptKind::kStage,
                                 OptKind::kPack,   OptKind::kTensorCore, OptKind::kPrefetch, OptKind::kPad,
                                 OptKind::kAsync,  OptKind::kWgmma};
}  // namespace

const char* opt_kind_name(OptKind k) {
  static const char* names[] = {"vector", "upcast", "unroll", "local",    "group",
                                "block",  "stream", "parallel", "stage", "pack", "tensor_core", "prefetch", "pad", "async", "wgmma"};
  return names[static_cast<int>(k)];
}

std::string to_string(const Opt& opt) {
  if (opt.kind == OptKind::kParallel) return opt_kind_name(opt.kind);
  return std::string(opt_kind_name(opt.kind)) + " " + std::to_string(opt.axis) + " " + std::to_string(opt.amount);
}

std::string to_string(const std::vector<Opt>& opts) {
  std::string out;
  for (const Opt& o : opts) out += (out.empty() ? "" : ", ") + to_string(o);
  return out;
}

std::optional<std::vector<Opt>> parse_opts(const std::string& text) {
  std::vector<Opt> opts;
  std::istringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    std::istringstream words(item);
    std::string name;
    if (!(words >> name)) return std::nullopt;
    Opt opt;
    bool known = false;
    for (OptKind k : kAllKinds) {
      if (name == opt_kind_name(k)) {
        opt.kind = k;
        known = true;
      }
    }
    if (!known) return std::nullopt;
    if (opt.kind != OptKind::kParallel && !(words >> opt.axis >> opt.amount)) return std::nullopt;
    if (std::string rest; words >> rest) return std::nullopt;
    opts.push_back(opt);
  }
  return opts;
}

}  // namespace tinyref
