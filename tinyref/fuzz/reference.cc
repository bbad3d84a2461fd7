#include "tinyref/fuzz/reference.h"

#include <unordered_map>

#include "tinyref/error.h"
#include "tinyref/ops_eval.h"

namespace tinyref::fuzz {

namespace {

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}

double read_host(const Buffer& buf, int64_t i) {
  const void* p = const_cast<Buffer&>(buf).ptr();
  switch (buf.dtype()) {
    case DType::kBool: return static_cast<const bool*>(p)[i] ? 1 : 0;
    case DType::kUInt8: return static_cast<const uint8_t*>(p)[i];
    case DType::kInt32: return static_cast<const int32_t*>(p)[i];
    case DType::kFloat32: return static_cast<const float*>(p)[i];
    case DType::kFloat64: return static_cast<const double*>(p)[i];
  }
  return 0;
}

class Evaluator {
 public:
  // A node's elements: its base's, read through the node's view.
  std::vector<double> values(const LazyRef& node) {
    const std::vector<double>& base = base_values(node->base());
    if (!node->is_view()) return base;
    std::vector<double> out(static_cast<size_t>(node->numel()));
    for (int64_t i = 0; i < node->numel(); ++i) {
      const int64_t at = node->st().index_of(unravel(i, node->shape()));
      out[i] = at < 0 ? 0 : base[at];  // padding reads 0
    }
    return out;
  }

 private:
  const std::vector<double>& base_values(LazyBuffer* b) {
    if (auto it = memo_.find(b); it != memo_.end()) return it->second;
    std::vector<double> out;
    const Op op = b->op();
    if (std::shared_ptr<Buffer> buf = b->realized_buffer()) {
      TT_CHECK(buf->device().host_memory(), "fuzz reference: inputs must be in host memory, not on " << b->device());
      for (size_t i = 0; i < buf->numel(); ++i) out.push_back(read_host(*buf, static_cast<int64_t>(i)));
    } else if (op == Op::CONST) {
      out.assign(static_cast<size_t>(b->numel()), b->arg().value);
    } else if (op == Op::CONTIGUOUS || op == Op::COPY) {
      out = values(b->srcs()[0]);
    } else if (is_elementwise(op)) {
      std::vector<std::vector<double>> in;
      for (const LazyRef& s : b->srcs()) in.push_back(values(s));
      const DType in_dtype = b->srcs()[op == Op::WHERE ? 1 : 0]->dtype();
      out.resize(static_cast<size_t>(b->numel()));
      for (size_t i = 0; i < out.size(); ++i) {
        const double x = in[0][i], y = in.size() > 1 ? in[1][i] : 0, z = in.size() > 2 ? in[2][i] : 0;
        out[i] = eval_alu(op, b->dtype(), in_dtype, x, y, z);
      }
    } else if (is_reduce(op)) {
      const LazyRef& src = b->srcs()[0];
      const std::vector<double> in = values(src);
      out.assign(static_cast<size_t>(b->numel()), reduce_identity(op, b->dtype()));
      const Op combine = op == Op::SUM ? Op::ADD : Op::MAX;
      for (int64_t i = 0; i < src->numel(); ++i) {
        std::vector<int64_t> idx = unravel(i, src->shape());
        for (int64_t ax : b->arg().ints) idx[ax] = 0;
        int64_t o = 0;
        for (size_t d = 0; d < idx.size(); ++d) o = o * b->shape()[d] + idx[d];
        out[o] = eval_alu(combine, b->dtype(), b->dtype(), out[o], in[i]);
      }
    } else {
      TT_ASSERT(false && "an op the fuzz reference does not know");
    }
    return memo_[b] = std::move(out);
  }

  std::unordered_map<LazyBuffer*, std::vector<double>> memo_;
};

}  // namespace

std::vector<double> reference_values(const LazyRef& node) { return Evaluator().values(node); }

}  // namespace tinyref::fuzz
