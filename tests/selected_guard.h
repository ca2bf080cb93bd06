// CTest runs each doctest test case on its own, selected by name (--test-case=<name>). A name
// that selects nothing (CMake cuts a discovered name at a ';'; a case renamed after the build
// listed it) makes doctest run zero cases and exit 0: a test that cannot fail. This listener
// counts the cases that passed the filters; a suite's main() calls nothing_selected() after
// the run and fails when a run selected no case.
// Include it in the one file of a suite that defines main() (after DOCTEST_CONFIG_IMPLEMENT).
#pragma once
#include <cstdio>
#include <cstring>

namespace dg::test {

inline unsigned& selected_cases() {
  static unsigned n = 0;
  return n;
}

struct SelectedCount : doctest::IReporter {
  explicit SelectedCount(const doctest::ContextOptions&) {}
  void test_run_end(const doctest::TestRunStats& s) override { selected_cases() = s.numTestCasesPassingFilters; }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
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
REGISTER_LISTENER("selected_count", 1, SelectedCount);

// Whether argv asks only for a listing (what doctest_discover_tests does at build time).
inline bool listing_only(int argc, char** argv) {
  for (int i = 1; i < argc; i++)
    if (std::strstr(argv[i], "list-test") != nullptr) return true;
  return false;
}

// After a run (not a listing): true, and says so, when no test case was selected.
inline bool nothing_selected() {
  if (selected_cases() > 0) return false;
  std::fprintf(stderr, "FAILED: no test case matches the filter given (a ';' in a test name cuts it for CTest)\n");
  return true;
}

}  // namespace dg::test
