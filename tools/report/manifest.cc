#include "tools/report/manifest.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace report {

std::vector<std::vector<std::string>> read_manifest(const std::string& path, size_t fields) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the manifest " + path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> row;
    std::istringstream split(line);
    for (std::string field; std::getline(split, field, '\t');) row.push_back(field);
    if (row.size() > fields) throw std::runtime_error(path + ": more than " + std::to_string(fields) + " fields in: " + line);
    row.resize(fields);
    rows.push_back(row);
  }
  return rows;
}

std::vector<std::string> words(const std::string& field) {
  std::vector<std::string> out;
  std::istringstream in(field);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace report
