// The environment variables: each read one way, bad values an Error naming the variable.
#include "tinyref/env.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace tinyref {
namespace {

using testing_util::ScopedEnv;

std::string error_of(void (*read)()) {
  try {
    read();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Env, UnsetOrEmptyIsTheFallback) {
  {
    ScopedEnv unset("TT_DEBUG", nullptr);
    EXPECT_EQ(env_int("TT_DEBUG", 3), 3);
    EXPECT_EQ(debug_level(), 0);
  }
  ScopedEnv empty("TT_NOOPT", "");
  EXPECT_TRUE(env_flag("TT_NOOPT", true));
  EXPECT_FALSE(env_flag("TT_NOOPT", false));
  EXPECT_EQ(env_string("TT_NOOPT", "x"), "x");
}

TEST(Env, ValuesAreParsed) {
  ScopedEnv debug("TT_DEBUG", "-2"), noopt("TT_NOOPT", "0"), search("TT_SEARCH", "1"), cxx("TT_CXX", "clang++");
  EXPECT_EQ(env_int("TT_DEBUG", 0), -2);
  EXPECT_FALSE(env_flag("TT_NOOPT", true));
  EXPECT_TRUE(env_flag("TT_SEARCH", false));
  EXPECT_EQ(env_string("TT_CXX", "g++"), "clang++");
}

TEST(Env, ValuesRereadOnEveryCall) {
  ScopedEnv one("TT_DEBUG", "1");
  EXPECT_EQ(debug_level(), 1);
  ScopedEnv five("TT_DEBUG", "5");
  EXPECT_EQ(debug_level(), 5);
}

TEST(Env, BadValueIsAnErrorNamingTheVariable) {
  {
    ScopedEnv bad("TT_NOOPT", "yes");
    EXPECT_EQ(error_of([] { env_flag("TT_NOOPT", false); }), "$TT_NOOPT is 0 or 1, not 'yes'");
  }
  {
    ScopedEnv bad("TT_VIZ", "2");
    EXPECT_EQ(error_of([] { env_flag("TT_VIZ", false); }), "$TT_VIZ is 0 or 1, not '2'");
  }
  for (const char* v : {"two", "2x", " 2", "99999999999"}) {
    ScopedEnv bad("TT_DEBUG", v);
    EXPECT_EQ(error_of([] { debug_level(); }), std::string("$TT_DEBUG is a whole number, not '") + v + "'");
  }
}

TEST(Env, AnUnlistedVariableIsAnInternalError) {
  EXPECT_THROW(env_flag("TT_NOT_A_VARIABLE", false), InternalError);
}

TEST(Env, EveryVariableIsDocumented) {
  for (const EnvVar& v : kEnvVars) {
    SCOPED_TRACE(v.name);
    EXPECT_GT(std::string(v.what).size(), 10u);
    EXPECT_TRUE(std::string("flag int string path").find(v.kind) != std::string::npos);
  }
}

}  // namespace
}  // namespace tinyref
