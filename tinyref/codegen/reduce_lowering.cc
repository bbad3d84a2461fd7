#include "tinyref/codegen/reduce_lowering.h"

#include "tinyref/error.h"
#include "tinyref/ops_eval.h"

namespace tinyref {

Op combine_op(Op reduce) { return reduce == Op::SUM ? Op::ADD : Op::MAX; }

// What the staging code (staging.h) may emit through.
struct ReduceLowering::Sink : UOpSink {
  explicit Sink(ReduceLowering& r) : r(r) {}
  int emit(const UOp& u) override { return r.b_.emit(u); }
  int int_const(int64_t v) override { return r.b_.int_const(v); }
  int alu(Op op, DType dt, std::vector<int> src) override { return r.b_.alu_uop(op, dt, 1, std::move(src)); }
  int lower(const sym::Expr& e) override { return r.ix_.lower(e); }
  int& var_uop(size_t d) override { return r.ix_.dim_index(d); }
  int buffer(int buf) override { return r.ix_.buffer(buf); }
  ReduceLowering& r;
};

std::map<std::vector<int64_t>, ReduceLowering::Val> ReduceLowering::lower(const std::vector<std::vector<int64_t>>& ups,
                                                                          const Render& render) {
  const AstNode* red = k_.reduce;
  const DType dt = red->dtype;
  const double init = reduce_identity(red->op, dt);
  const Op combine = combine_op(red->op);
  const bool vector_acc = ix_.vector_dim() >= 0;
  const bool vector_reduce = vector_acc && k_.is_reduce_dim(ix_.vector_dim());
  const int group = k_.first_of(Axis::kGroup);
  int local = -1;
  std::vector<int> group_open;
  if (group >= 0) {
    local = b_.emit_typed(UOpKind::kDefineLocal, dt, {}, 1, group_size() * static_cast<int64_t>(ups.size()));
    // On a GPU the group is the block's threads (the lidx digits), no loop.
    TT_ASSERT(!k_.gpu || k_.first_of(Axis::kLocal) < 0);
    if (!k_.gpu) group_open = ix_.open_loops({Axis::kGroup}, k_.parallel);
  }
  std::vector<int> accs;
  for (size_t i = 0; i < ups.size(); ++i) accs.push_back(b_.define_acc(dt, init, vector_acc ? b_.simd_width() : 1));
  std::vector<int> tile_loop = open_k_tile();  // staged: the loop over K-tiles, else none
  const bool wgmma = k_.issues_wgmma();
  TT_ASSERT(!wgmma || !tile_loop.empty());
  if (wgmma) b_.emit(UOp{UOpKind::kWgmmaFence});  // the accumulators were written (set, or by the last turn's)
  std::vector<int> reduce_open =
      ix_.open_loops({Axis::kReduce}, false, tile_loop.empty() ? 0 : k_.first_of(Axis::kReduce) + 1);
  if (wgmma) {
    wgmma_steps(ups, accs);
  } else if (k_.tensor_core) {
    mma_steps(ups, accs, render);
  } else {
    for (size_t i = 0; i < ups.size(); ++i) {
      for (const auto& r : ix_.combos(Axis::kUnroll, ups[i])) {
        Val next = b_.alu(combine, dt, {Val{accs[i], {}}, render(red->src[0].get(), r)});
        b_.emit_typed(UOpKind::kAssign, dt, {accs[i], next.lanes.empty() ? next.id : b_.as_vector(next)}, b_.uop(accs[i]).lanes);
      }
    }
  }
  ix_.close_loops(reduce_open);
  if (wgmma) {  // this turn's MMAs end before the next turn's copies overwrite what they read
    b_.emit(UOp{UOpKind::kWgmmaCommit});
    if (copies_ahead_) {  // issued while the tensor cores run (staging.h)
      Sink sink(*this);
      start_async_k_tile_ahead(k_, staging_arrays_, *copies_ahead_, sink);
    }
    wgmma_wait(wgmma_in_flight(k_) ? 1 : 0, accs);  // 1: this turn's group runs on into the next (staging.h)
  }
  close_k_tile(tile_loop);
  if (wgmma_in_flight(k_)) wgmma_wait(0, accs);  // the last turn's group
  std::vector<Val> results;
  for (int acc : accs) {
    if (vector_reduce) {
      UOp h{UOpKind::kHReduce};
      h.op = red->op;
      h.dtype = dt;
      h.src = {acc};
      results.push_back({b_.emit(h), {}});
    } else {
      results.push_back({acc, {}});
    }
  }
  if (group >= 0) {
    // Each parallel iteration (thread) t leaves its partials in local[t * n + i].
    const int n = static_cast<int>(ups.size());
    for (int i = 0; i < n; ++i) {
      const int t = k_.gpu ? ix_.thread_index() : ix_.dim_index(group);
      b_.emit_typed(UOpKind::kStore, dt, {local, slot(t, n, b_.int_const(i)), results[i].id});
    }
    ix_.close_loops(group_open);
    if (k_.gpu) {
      combine_by_columns(local, n, init, combine, dt, results);
    } else {  // one loop adds up the rows
      std::vector<int> sums;
      for (int i = 0; i < n; ++i) sums.push_back(b_.define_acc(dt, init));
      const int t = ix_.open_range(group_size());
      for (int i = 0; i < n; ++i) b_.accumulate(sums[i], combine, dt, b_.emit_typed(UOpKind::kLoad, dt, {local, slot(t, n, b_.int_const(i))}));
      ix_.close_loops({t});
      for (int i = 0; i < n; ++i) results[i] = {sums[i], {}};
    }
  }
  std::map<std::vector<int64_t>, Val> reduced;
  for (size_t i = 0; i < ups.size(); ++i) reduced[ups[i]] = results[i];
  return reduced;
}

// How many partial results a group reduce leaves: on a CPU the iterations of its one group
// loop; on a GPU every thread of the block, whose group dimensions may be several (the thread
// index is then the slot).
int64_t ReduceLowering::group_size() const {
  if (!k_.gpu) return full_[k_.first_of(Axis::kGroup)];
  int64_t n = 1;
  for (size_t d = 0; d < k_.ndim(); ++d) {
    if (k_.axes[d] == Axis::kGroup) n *= full_[d];
  }
  return n;
}

// A GPU block's partials sit in local[t * n + i] (thread t, output i). Thread c adds up column
// c (and c + T, ... where the n outputs outnumber the T threads) and leaves the sum in row 0;
// after a barrier every thread reads the n sums. T + n shared reads a thread, where one thread
// adding up all the columns would do T * n. Only thread 0 stores (the linearizer's gate).
void ReduceLowering::combine_by_columns(int local, int n, double init, Op combine, DType dt, std::vector<Val>& results) {
  const int64_t threads = group_size();
  const int lidx = ix_.thread_index();
  b_.emit(UOp{UOpKind::kBarrier});
  for (int64_t first = 0; first < n; first += threads) {
    const int col = first == 0 ? lidx : b_.alu_uop(Op::ADD, DType::kInt32, 1, {lidx, b_.int_const(first)});
    const int gate = first + threads > n ? b_.alu_uop(Op::CMPLT, DType::kBool, 1, {col, b_.int_const(n)}) : -1;
    const int acc = b_.define_acc(dt, init);
    const int t = ix_.open_range(threads);
    std::vector<int> load_src = {local, slot(t, n, col)};
    if (gate >= 0) load_src.push_back(gate);
    b_.accumulate(acc, combine, dt, b_.emit_typed(UOpKind::kLoad, dt, load_src));
    ix_.close_loops({t});
    if (n == 1) {  // thread 0 has the sum already
      results[0] = {acc, {}};
      return;
    }
    std::vector<int> store_src = {local, col, acc};
    if (gate >= 0) store_src.push_back(gate);
    b_.emit_typed(UOpKind::kStore, dt, store_src);
  }
  b_.emit(UOp{UOpKind::kBarrier});
  for (int i = 0; i < n; ++i) results[i] = {b_.emit_typed(UOpKind::kLoad, dt, {local, b_.int_const(i)}), {}};
}

// A tensor-core kernel's loop body (kernel.h: TensorCoreDims): for each 16x8 tile of the warp's
// register tile (the upcast positions with row_hi = col_pair = 0) and each unrolled position,
// this lane's A and B fragments and one MMA into the tile's four accumulators. A fragment is
// the MUL's source rendered with the lane's digits moved: the mma's K (no index of its own) is
// col_lane or col_lane + 4; B's column is row_lane, so for B the column digits (col_lane,
// col_pair) become row_lane / 2 and row_lane % 2. Such a rendering is keyed by an assignment of
// -2 or -3 to the moved dimensions (index_of reads -1 and below as "the dimension's index"), so
// the linearizer's cache keeps it apart from the ordinary value.
void ReduceLowering::mma_steps(const std::vector<std::vector<int64_t>>& ups, const std::vector<int>& accs,
                               const Render& render) {
  const TensorCoreDims t = *k_.tensor_core;
  const AstNode* mul = k_.reduce->src[0].get();
  const AstNode* a = mul->src[t.a_src].get();
  const AstNode* b = mul->src[1 - t.a_src].get();
  const int row_lane = ix_.dim_index(t.row_lane), col_lane = ix_.dim_index(t.col_lane);
  const int k_of[2] = {col_lane, b_.alu_uop(Op::ADD, DType::kInt32, 1, {col_lane, b_.int_const(4)})};
  const int b_col_lane = b_.alu_uop(Op::IDIV, DType::kInt32, 1, {row_lane, b_.int_const(2)});
  const int b_col_pair = b_.alu_uop(Op::MOD, DType::kInt32, 1, {row_lane, b_.int_const(2)});
  std::map<std::vector<int64_t>, int> acc_at;
  for (size_t i = 0; i < ups.size(); ++i) acc_at[ups[i]] = accs[i];
  const bool rounded = staged_as_tf32(k_, staged_);  // the copies rounded A and B (staging.h)
  for (const std::vector<int64_t>& tile : ups) {
    if (tile[t.row_hi] != 0 || tile[t.col_pair] != 0) continue;
    for (const std::vector<int64_t>& r : ix_.combos(Axis::kUnroll, tile)) {
      std::vector<int> src;
      for (int i = 0; i < 4; ++i) {  // a_i: row row_lane + 8 * (i % 2), K col_lane + 4 * (i / 2)
        std::vector<int64_t> at = r;
        at[t.row_hi] = i % 2;
        at[t.k] = -2 - i / 2;
        ix_.dim_index(t.k) = k_of[i / 2];
        src.push_back(render(a, at).id);
      }
      ix_.dim_index(t.col_lane) = b_col_lane;
      ix_.dim_index(t.col_pair) = b_col_pair;
      for (int j = 0; j < 2; ++j) {  // b_j: K col_lane + 4 * j, column row_lane
        std::vector<int64_t> at = r;
        at[t.col_lane] = at[t.col_pair] = -2;
        at[t.k] = -2 - j;
        ix_.dim_index(t.k) = k_of[j];
        src.push_back(render(b, at).id);
      }
      ix_.dim_index(t.col_lane) = col_lane;
      ix_.dim_index(t.col_pair) = ix_.dim_index(t.k) = -1;
      for (int i = 0; i < 4; ++i) {  // c_i: row_hi = i / 2, col_pair = i % 2
        std::vector<int64_t> at = tile;
        at[t.row_hi] = i / 2;
        at[t.col_pair] = i % 2;
        src.push_back(acc_at.at(at));
      }
      const int mma = b_.emit_typed(UOpKind::kMma, DType::kFloat32, src, 4, rounded ? 1 : 0);
      for (int i = 0; i < 4; ++i) {
        b_.emit_typed(UOpKind::kAssign, DType::kFloat32, {src[6 + i], b_.emit_typed(UOpKind::kGep, DType::kFloat32, {mma}, 1, i)});
      }
    }
  }
}

// A warpgroup-MMA kernel's loop body (kernel.h: TensorCoreDims, Opt kWgmma): for each of the
// warpgroup's 64-row tiles (the upcast positions with row_hi = col_pair = 0 and the first column
// tile) and each step of 8 along K, one WGMMA over all its column tiles. Its operands start at the
// warpgroup's first element in the staged arrays (staging.cc: wgmma_layout): the lanes' digits,
// the fragment's and K's at 0, the warp digit at the warpgroup's first warp. Accumulator i of the
// instruction is column tile i / 4, row_hi (i / 2) % 2, col_pair i % 2 of the register tile.
void ReduceLowering::wgmma_steps(const std::vector<std::vector<int64_t>>& ups, const std::vector<int>& accs) {
  const TensorCoreDims& t = *k_.tensor_core;
  const AstNode* mul = k_.reduce->src[0].get();
  const size_t a = staged_slot_.at(k_.st_index(mul->src[t.a_src].get()));
  const size_t b = staged_slot_.at(k_.st_index(mul->src[1 - t.a_src].get()));
  const int64_t n = 8 * (t.tiles_n >= 0 ? full_[t.tiles_n] : 1);
  std::map<std::vector<int64_t>, int> acc_at;
  for (size_t i = 0; i < ups.size(); ++i) acc_at[ups[i]] = accs[i];
  int& warp = ix_.dim_index(t.warp);
  const int thread_warp = warp;
  const int first_warp = b_.alu_uop(Op::MUL, DType::kInt32, 1, {b_.alu_uop(Op::IDIV, DType::kInt32, 1, {warp, b_.int_const(4)}), b_.int_const(4)});
  Sink sink(*this);
  for (const std::vector<int64_t>& tile : ups) {
    if (tile[t.row_hi] != 0 || tile[t.col_pair] != 0 || (t.tiles_n >= 0 && tile[t.tiles_n] != 0)) continue;
    for (std::vector<int64_t> at : ix_.combos(Axis::kUnroll, tile)) {
      for (int d : {t.row_lane, t.col_lane, t.k, t.k_hi}) at[d] = 0;
      at[t.warp] = -1;
      ix_.dim_index(t.warp) = first_warp;
      std::vector<int> src;
      for (size_t s : {a, b}) {
        src.push_back(staging_arrays_[s]);
        src.push_back(staged_index(staged_[s], at, sink, read_ring_));
        src.push_back(b_.int_const(staged_[s].lbo));
        src.push_back(b_.int_const(staged_[s].sbo));
      }
      ix_.dim_index(t.warp) = thread_warp;
      for (int64_t i = 0; i < n / 2; ++i) {
        std::vector<int64_t> pos = tile;
        if (t.tiles_n >= 0) pos[t.tiles_n] = i / 4;
        pos[t.row_hi] = i / 2 % 2;
        pos[t.col_pair] = i % 2;
        src.push_back(acc_at.at(pos));
      }
      b_.emit_typed(UOpKind::kWgmma, DType::kFloat32, src, 1, n);
    }
  }
}

// Waits until `in_flight` groups of WGMMAs are left; where none is, its accumulators are delivered
// (the renderer keeps their reads after the wait).
void ReduceLowering::wgmma_wait(int64_t in_flight, const std::vector<int>& accs) {
  UOp wait{UOpKind::kWgmmaWait};
  wait.arg = in_flight;
  if (in_flight == 0) wait.src = accs;
  b_.emit(wait);
}

int ReduceLowering::slot(int row, int64_t n, int col) {  // row * n + col
  return b_.alu_uop(Op::ADD, DType::kInt32, 1, {b_.alu_uop(Op::MUL, DType::kInt32, 1, {row, b_.int_const(n)}), col});
}

std::vector<int> ReduceLowering::open_k_tile() {
  staged_ = plan_staging(k_);
  if (staged_.empty()) return {};
  Sink sink(*this);
  staging_arrays_ = define_staging_arrays(k_, staged_, sink);
  for (size_t i = 0; i < staged_.size(); ++i) staged_slot_[staged_[i].leaf] = i;
  const StagingCopies copies = prepare_staging_copies(k_, staged_, ix_.thread_index(), b_.program().local_size, sink);
  const std::vector<int> registers = k_.prefetch_k_tiles ? prefetch_first_k_tile(k_, copies, sink) : std::vector<int>{};
  if (k_.async_stages > 0) start_async_k_tiles(k_, staging_arrays_, copies, sink);
  const size_t outer = static_cast<size_t>(k_.first_of(Axis::kReduce));
  std::vector<int> loop = ix_.open_loops({Axis::kReduce}, false, outer, outer + 1);
  if (k_.async_stages > 0) {
    read_ring_ = wait_for_async_k_tile(k_, sink);
    if (k_.issues_wgmma()) {
      copies_ahead_ = copies;  // after this turn's MMAs (lower)
    } else {
      start_async_k_tile_ahead(k_, staging_arrays_, copies, sink);
    }
  } else if (k_.prefetch_k_tiles) {
    emit_prefetched_staging_copies(k_, staged_, staging_arrays_, copies, registers, sink);
  } else {
    emit_staging_copies(k_, staged_, staging_arrays_, copies, sink);
  }
  in_k_tile_ = true;
  return loop;
}

void ReduceLowering::close_k_tile(const std::vector<int>& loop) {
  if (loop.empty()) return;
  in_k_tile_ = false;
  if (k_.async_stages > 0) {  // the next turn's barrier guards the ring (staging.h)
    ix_.close_loops(loop);
    b_.emit(UOp{UOpKind::kAsyncWait});  // none left in flight (the groups past the last K-tile are empty)
    return;
  }
  b_.emit(UOp{UOpKind::kBarrier});  // the next turn's copies overwrite what this one reads
  ix_.close_loops(loop);
}

std::optional<ReduceLowering::Val> ReduceLowering::staged_read(const AstNode* n, const std::vector<int64_t>& assign) {
  if (!in_k_tile_) return std::nullopt;
  const auto it = staged_slot_.find(k_.st_index(n));
  if (it == staged_slot_.end()) return std::nullopt;
  const size_t i = it->second;
  Sink sink(*this);
  return Val{emit_staged_read(staged_[i], staging_arrays_[i], b_.uop(staging_arrays_[i]).dtype, assign, ix_.vector_dim(), sink,
                              read_ring_),
             {}};
}

}  // namespace tinyref
