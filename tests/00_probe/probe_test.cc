#include "ch00/probe.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"
TEST(Task1Answer, IsFortyTwo) { EXPECT_EQ(ch00::answer(), 42); }
