// Fuzzes read_resume_file (create --resume FILE): never crashes; it never keeps more entries than
// it read lines.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_check.hpp"
#include "gt/bulk_results.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto resume = gt::read_resume_file(in, "--resume fuzz");
  if (!resume) return 0;
  GT_FUZZ_CHECK(resume->size() <= resume->lines());
  for (std::size_t i = 0; i < 4; ++i) (void)resume->find(i);
  return 0;
}
