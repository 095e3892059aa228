// The Catch2 main, compiled once and shared by every test executable, and the
// listener that prints the failure context (support/failure_context.hpp).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "support/failure_context.hpp"

#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace crosscheck::testing {
namespace {

struct Contexts {
  std::mutex mutex;
  std::vector<std::pair<const void*, std::function<std::string()>>> entries;
};

// Never destroyed: a ChildProcess held by a static (a database server
// shared by a file's cases) is destroyed at exit, after a static registry
// made later would be (a double free at the end of mysql_check_test).
Contexts& contexts() {
  static auto* const instance = new Contexts;
  return *instance;
}

class FailureContextListener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    printed_ = false;
    TestEventListenerBase::testCaseStarting(info);
  }

  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.succeeded() && !printed_) {
      printed_ = true;
      auto& all = contexts();
      const std::lock_guard lock(all.mutex);
      for (const auto& [owner, describe] : all.entries) {
        // Whatever goes wrong here must not hide the failure itself.
        try {
          stream << describe() << '\n';
        } catch (const std::exception& error) {
          stream << "(a failure context could not be read: " << error.what() << ")\n";
        }
      }
      stream.flush();
    }
    return TestEventListenerBase::assertionEnded(stats);
  }

 private:
  bool printed_ = false;
};

CATCH_REGISTER_LISTENER(FailureContextListener)

}  // namespace

void add_failure_context(const void* owner, std::function<std::string()> describe) {
  auto& all = contexts();
  const std::lock_guard lock(all.mutex);
  all.entries.emplace_back(owner, std::move(describe));
}

void remove_failure_context(const void* owner) {
  auto& all = contexts();
  const std::lock_guard lock(all.mutex);
  std::erase_if(all.entries, [owner](const auto& entry) { return entry.first == owner; });
}

}  // namespace crosscheck::testing
