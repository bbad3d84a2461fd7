// Pictures of a schedule: the lazy graph before fusion, each node filled with the colour of the
// kernel it runs in, beside the kernels after fusion (one box each, same colours), as Graphviz
// DOT text. Chapter 5's students draw their own schedule the same way and compare.
//
//   std::string dot = schedule_dot({loss.lazy()});      // nothing runs
//   std::optional<std::string> svg = dot_to_svg(dot);   // nullopt without Graphviz's `dot`
//
//   TT_VIZ=1 ./my_program     # every realize() also writes schedule_NNNN.dot (and .svg) into
//                             # $TT_VIZ_DIR (default /tmp/tinyref_viz) and names the file on stderr
//
// In the picture: a box per base node (op and shape), a white box per buffer that exists
// already, grey text per constant; an edge label names the movement op when a node is read
// through a view (EXPAND, PERMUTE, ...). A node drawn in two colours (stripes) is computed in
// two kernels; a double border marks a realize point, the node a kernel writes.
#ifndef TINYREF_SCHEDULE_VIZ_H_
#define TINYREF_SCHEDULE_VIZ_H_

#include <optional>
#include <string>
#include <vector>

#include "tinyref/lazy/lazybuffer.h"

namespace tinyref {

std::string schedule_dot(const std::vector<LazyRef>& outs);

// Runs `dot -Tsvg`; nullopt when Graphviz is not installed. Throws Error if dot fails.
std::optional<std::string> dot_to_svg(const std::string& dot);

// The TT_VIZ hook: if $TT_VIZ is set and not 0, writes the picture of this schedule to a file.
void maybe_write_schedule_viz(const std::vector<LazyRef>& outs);

}  // namespace tinyref

#endif  // TINYREF_SCHEDULE_VIZ_H_
