// Two tiers of checks, as in PyTorch (TORCH_CHECK vs TORCH_INTERNAL_ASSERT):
//
//   TT_CHECK(a.shape() == b.shape(), "add: shapes " << a.shape() << " and " << b.shape()
//            << " do not broadcast");          // the user's mistake: throws tinyref::Error
//   TT_ASSERT(view.strides.size() == view.shape.size());   // our bug: throws InternalError
//
// Library code never calls exit or abort: a test (or a training script) can catch either.
#ifndef TINYREF_ERROR_H_
#define TINYREF_ERROR_H_

#include <sstream>
#include <stdexcept>
#include <string>

namespace tinyref {

// A mistake in how tinyref was called: bad shapes, axes, dtypes, devices, files.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A broken invariant inside tinyref: a bug to report, not a usage error.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace tinyref

#define TT_CHECK(cond, message)                        \
  do {                                                 \
    if (!(cond)) {                                     \
      std::ostringstream tt_check_stream_;             \
      tt_check_stream_ << message;                     \
      throw ::tinyref::Error(tt_check_stream_.str());  \
    }                                                  \
  } while (0)

#define TT_ASSERT(cond)                                                                  \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      throw ::tinyref::InternalError(std::string("internal error: ") + #cond + " at " + \
                                     __FILE__ + ":" + std::to_string(__LINE__));         \
    }                                                                                    \
  } while (0)

#endif  // TINYREF_ERROR_H_
