#include "tools/mnist/curve_svg.h"

#include <tinyxml2.h>

#include "gtest/gtest.h"
#include "tinyref/error.h"

namespace mnist_tool {
namespace {

TEST(CurveSvgTest, IsWellFormedSvgWithBothCurves) {
  TrainingCurve curve;
  for (int step = 1; step <= 70; ++step) curve.losses.push_back({step, 2.3 / step});
  curve.accuracies = {{35, 0.95}, {70, 0.9812}};
  const std::string svg = render_svg(curve, "beautiful_mnist");
  tinyxml2::XMLDocument doc;
  ASSERT_EQ(doc.Parse(svg.c_str()), tinyxml2::XML_SUCCESS) << svg;
  EXPECT_STREQ(doc.RootElement()->Name(), "svg");
  int polylines = 0;
  for (auto* e = doc.RootElement()->FirstChildElement("polyline"); e;
       e = e->NextSiblingElement("polyline")) {
    ++polylines;
  }
  EXPECT_EQ(polylines, 2);
  EXPECT_NE(svg.find("final test accuracy 98.12%"), std::string::npos);
}

TEST(CurveSvgTest, LossCurveSpansThePlot) {
  TrainingCurve curve;
  curve.losses = {{0, 4.0}, {100, 0.0}};
  const std::string svg = render_svg(curve, "t");
  // First point at the top-left corner of the plot area, last at the bottom-right.
  EXPECT_NE(svg.find("points=\"60.0,40.0 580.0,350.0 \""), std::string::npos) << svg;
}

TEST(CurveSvgTest, UnwritablePathIsAnError) {
  EXPECT_THROW(write_svg(TrainingCurve{}, "/nonexistent/dir/curve.svg", "t"), tinyref::Error);
}

}  // namespace
}  // namespace mnist_tool
