#include "tinyref/env.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "tinyref/error.h"

namespace tinyref {

namespace {

// The variable's value; empty when unset.
std::string lookup(const char* name) {
  bool listed = false;
  for (const EnvVar& v : kEnvVars) listed = listed || std::strcmp(v.name, name) == 0;
  TT_ASSERT(listed && "list the variable in kEnvVars (env.h) before reading it");
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

std::string env_string(const char* name, const std::string& fallback) {
  const std::string value = lookup(name);
  return value.empty() ? fallback : value;
}

bool env_flag(const char* name, bool fallback) {
  const std::string value = lookup(name);
  if (value.empty()) return fallback;
  TT_CHECK(value == "0" || value == "1", "$" << name << " is 0 or 1, not '" << value << "'");
  return value == "1";
}

int env_int(const char* name, int fallback) {
  const std::string value = lookup(name);
  if (value.empty()) return fallback;
  int n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  TT_CHECK(ec == std::errc() && end == value.data() + value.size(),
           "$" << name << " is a whole number, not '" << value << "'");
  return n;
}

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  if (const char* old = std::getenv(name)) old_ = old;
  set(value);
}

ScopedEnv::~ScopedEnv() { set(old_ ? old_->c_str() : nullptr); }

void ScopedEnv::set(const char* value) {
  if (value != nullptr) {
    setenv(name_.c_str(), value, 1);
  } else {
    unsetenv(name_.c_str());
  }
}

}  // namespace tinyref
