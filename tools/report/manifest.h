// The manifests ./course writes for the report tools: one row per line, tab-separated fields.
//
//   for (const auto& row : report::read_manifest(".course/known_bugs/manifest.tsv", 6)) {
//     row[0];                       // the chapter folder
//     report::words(row[4]);        // "ops_test nn_test" -> {"ops_test", "nn_test"}
//   }
#ifndef TOOLS_REPORT_MANIFEST_H_
#define TOOLS_REPORT_MANIFEST_H_

#include <string>
#include <vector>

namespace report {

// Every line of the file as exactly `fields` fields (missing trailing ones are empty). Throws
// std::runtime_error naming the file when it cannot be read or a line has more fields.
std::vector<std::vector<std::string>> read_manifest(const std::string& path, size_t fields);

// The space-separated words of a field.
std::vector<std::string> words(const std::string& field);

}  // namespace report

#endif  // TOOLS_REPORT_MANIFEST_H_
