// Warp collectives in lockstep: the lanes named in a mask meet at the call; when the last lane
// that has not exited arrives, every result is computed from the values brought to this one
// call, and the lanes go on. What CUDA leaves undefined is a fault here: a mask without the
// calling lane, lanes of one mask at different calls, a shuffle from a lane that did not take
// part (a lane past the end of the block, or not in the mask).
#include <cstring>
#include <sstream>
#include <string>

#include "tools/cudaemu/block.h"

namespace cudaemu::detail {

namespace {

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::kSync: return "__syncwarp";
    case WarpOp::kShfl: return "__shfl_sync";
    case WarpOp::kShflUp: return "__shfl_up_sync";
    case WarpOp::kShflDown: return "__shfl_down_sync";
    case WarpOp::kShflXor: return "__shfl_xor_sync";
    case WarpOp::kBallot: return "__ballot_sync";
    case WarpOp::kAny: return "__any_sync";
    case WarpOp::kAll: return "__all_sync";
    case WarpOp::kReduceAdd: return "__reduce_add_sync";
    case WarpOp::kReduceMin: return "__reduce_min_sync";
    case WarpOp::kReduceMax: return "__reduce_max_sync";
  }
  return "a warp collective";
}

std::string mask_str(unsigned mask) {
  std::ostringstream os;
  os << "0x" << std::hex << mask;
  return os.str();
}

bool same_place(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

// The lane that `lane` reads in a shuffle (itself where CUDA says the caller keeps its value).
unsigned shuffle_source(WarpOp op, unsigned lane, int arg, int width) {
  const unsigned w = static_cast<unsigned>(width), base = lane & ~(w - 1);
  switch (op) {
    case WarpOp::kShfl: return base + (static_cast<unsigned>(arg) & (w - 1));
    case WarpOp::kShflUp: return static_cast<int>(lane) - arg < static_cast<int>(base) ? lane : lane - arg;
    case WarpOp::kShflDown: return lane + arg >= base + w ? lane : lane + arg;
    case WarpOp::kShflXor: {
      const unsigned src = lane ^ static_cast<unsigned>(arg);
      return (src & ~(w - 1)) > base || src >= kWarpSize ? lane : src;
    }
    default: return lane;
  }
}

void complete(BlockRunner& runner, unsigned w, size_t index) {
  const WarpGroup g = runner.warp(w).pending[index];
  runner.warp(w).pending.erase(runner.warp(w).pending.begin() + static_cast<ptrdiff_t>(index));
  CudaThread* lanes = runner.threads().data() + w * kWarpSize;
  uint64_t ballot = 0, sum = 0;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  uint64_t ulo = UINT64_MAX, uhi = 0;
  for (unsigned l = 0; l < kWarpSize; ++l) {
    if (!(g.arrived >> l & 1u)) continue;
    const uint64_t v = lanes[l].warp_value;
    ballot |= static_cast<uint64_t>(v != 0) << l;
    sum += v;
    lo = std::min(lo, static_cast<int64_t>(v)), hi = std::max(hi, static_cast<int64_t>(v));
    ulo = std::min(ulo, v), uhi = std::max(uhi, v);
  }
  const bool is_signed = lanes[__builtin_ctz(g.arrived)].warp_arg != 0;
  for (unsigned l = 0; l < kWarpSize; ++l) {
    if (!(g.arrived >> l & 1u)) continue;
    CudaThread& t = lanes[l];
    switch (g.op) {
      case WarpOp::kShfl:
      case WarpOp::kShflUp:
      case WarpOp::kShflDown:
      case WarpOp::kShflXor: {
        const unsigned src = shuffle_source(g.op, l, t.warp_arg, g.width);
        if (!(g.arrived >> src & 1u)) t.bad_source_lane = static_cast<int>(src);
        t.warp_result = (g.arrived >> src & 1u) ? lanes[src].warp_value : t.warp_value;
        break;
      }
      case WarpOp::kBallot: t.warp_result = ballot; break;
      case WarpOp::kAny: t.warp_result = ballot != 0; break;
      case WarpOp::kAll: t.warp_result = ballot == g.arrived; break;
      case WarpOp::kReduceAdd: t.warp_result = sum; break;
      case WarpOp::kReduceMin: t.warp_result = is_signed ? static_cast<uint64_t>(lo) : ulo; break;
      case WarpOp::kReduceMax: t.warp_result = is_signed ? static_cast<uint64_t>(hi) : uhi; break;
      case WarpOp::kSync: t.warp_result = 0; break;
    }
    t.state = ThreadState::kRunnable;
  }
  if (g.op == WarpOp::kSync) runner.stamp_warp(w);
}

// Completes the collectives of warp w whose every live named lane has arrived.
void complete_ready(BlockRunner& runner, unsigned w) {
  if (runner.warp(w).pending.empty()) return;
  const unsigned live = runner.warp(w).live;
  for (size_t i = 0; i < runner.warp(w).pending.size();) {
    const WarpGroup& g = runner.warp(w).pending[i];
    if ((g.mask & live & ~g.arrived) == 0) {
      complete(runner, w, i);
    } else {
      ++i;
    }
  }
}

}  // namespace

// The fault of a lane whose call cannot be part of a collective (the strings only built here).
[[noreturn]] void bad_call(const CudaThread& t, WarpOp op, unsigned mask, const std::source_location& loc,
                           const char* title, const std::string& why) {
  fault(cudaErrorLaunchFailure, title,
        "  lane " + std::to_string(t.lane) + " of warp " + std::to_string(t.warp) + " calls " + op_name(op) + "(" +
            mask_str(mask) + ", ...)" + why + "\n",
        loc);
}

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const std::source_location& loc) {
  BlockRunner& runner = current_runner();
  CudaThread& t = this_thread();
  const unsigned bit = 1u << t.lane;
  if (!(mask & bit))
    bad_call(t, op, mask, loc, "warp collective whose mask leaves out the calling lane",
             "; each lane taking part must name itself in the mask");
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    bad_call(t, op, mask, loc, "bad shuffle width",
             " with width " + std::to_string(width) + ": it must be a power of 2 up to 32");
  Warp& w = runner.warp(t.warp);
  WarpGroup* group = nullptr;
  for (WarpGroup& g : w.pending) {
    if (g.mask == mask) {
      if (g.op != op || !same_place(g.loc, loc))
        bad_call(t, op, mask, loc, "lanes of one mask at different warp collectives",
                 " at " + where(loc) + ", while lanes of the same mask wait at " + op_name(g.op) + " at " +
                     where(g.loc) + "\n  every lane named in a mask must reach the same call");
      group = &g;
    } else if (g.mask & bit) {
      bad_call(t, op, mask, loc, "lanes of one mask at different warp collectives",
               " at " + where(loc) + ", but lanes waiting at " + op_name(g.op) + "(" + mask_str(g.mask) + ", ...) at " +
                   where(g.loc) + " named it in their mask");
    }
  }
  if (group == nullptr) {
    w.pending.push_back(WarpGroup{op, mask, 0, width, loc});
    group = &w.pending.back();
  }
  group->arrived |= bit;
  t.warp_value = value;
  t.warp_arg = arg;
  t.state = ThreadState::kWarp;
  t.wait_loc = loc;
  complete_ready(runner, t.warp);
  runner.yield(t);
  return t.warp_result;
}

void warp_lane_exited(BlockRunner& runner, CudaThread& t) { complete_ready(runner, t.warp); }

unsigned active_mask() { return current_runner().warp(this_thread().warp).live; }

}  // namespace cudaemu::detail
