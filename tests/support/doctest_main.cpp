// The main() of both doctest executables. It differs from doctest's own in one way: a run whose
// filters select no test case fails. CTest runs each case as `<binary> --test-case=<name>`, and
// doctest_discover_tests splits names at ';' (CMake's list separator); a name with one became
// filters that matched nothing, and those CTest entries "passed" without running anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

int g_selected = -1;  // test cases that passed the filters, from the last run; -1: no run

// Only records how many test cases the filters selected.
struct SelectedCounter : doctest::IReporter {
  explicit SelectedCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    g_selected = static_cast<int>(stats.numTestCasesPassingFilters);
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("selected-counter", 1, SelectedCounter);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;  // --help, --list-test-cases, ...
  if (result == 0 && g_selected == 0) {
    std::fprintf(stderr,
                 "no test case matches the filters: a test that runs nothing must not pass "
                 "(is there a ';' in a test name? CTest splits names there)\n");
    return 1;
  }
  return result;
}
