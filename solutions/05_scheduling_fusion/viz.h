// Seeing fusion: the lazy graph before fusion, each op filled with the colour of the kernel
// that computes it, beside the kernels after fusion (one box each, the same colours). Given.
//
//   std::string dot = to_dot({loss.lazy(), w1.lazy()});   // Graphviz text; nothing runs
//   std::optional<std::string> svg = to_svg(dot);          // nullopt without Graphviz's dot
//
//   bazel run //tests/05_scheduling_fusion:draw_schedule -- --out /tmp/mlp
//       writes /tmp/mlp.ours.{dot,svg} (your scheduler) and /tmp/mlp.tinyref.{dot,svg}
//
// Reading the picture: a box per op with its shape; a white box per buffer that already exists;
// grey numbers are constants. An edge label names the view a node is read through (EXPAND,
// PERMUTE, PAD...). A double border marks a realize point (the node a kernel writes); a striped
// box is computed by several kernels (recomputed, not stored). tinyref draws the same picture
// (tinyref/schedule/viz.h, or TT_VIZ=1), so yours should look like its.
#ifndef CH05_VIZ_H_
#define CH05_VIZ_H_

#include <optional>
#include <string>
#include <vector>

#include "ch04/lazy.h"

namespace ch05 {

std::string to_dot(const std::vector<ch04::LazyRef>& outs);

// Graphviz's `dot -Tsvg` on the text; nullopt when dot is not installed. Throws
// std::runtime_error with dot's message when it fails.
std::optional<std::string> to_svg(const std::string& dot);

}  // namespace ch05

#endif  // CH05_VIZ_H_
