#include "tests/testing/milestone.h"

namespace testing_util {

MilestoneData milestone_data(const AccuracyBars& bars) {
  MilestoneData data;
  data.dataset = datasets::chosen_dataset();
  data.name = datasets::dataset_name(data.dataset);
  data.bar = data.dataset == datasets::Dataset::kFashion ? bars.fashion : bars.mnist;
  data.train = datasets::load_dataset(data.dataset, "train");
  data.test = datasets::load_dataset(data.dataset, "test");
  return data;
}

}  // namespace testing_util
