// SPDX-License-Identifier: MIT
// The main of every test program: Catch2's, and a listener that counts the test cases
// that skipped themselves (a WARN("skipped: <reason>"), the suite's convention; Catch2 2
// has no skip of its own) and prints the count and the reasons when the run ends, so
// that skips show in every run's output.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstddef>
#include <iostream>
#include <map>
#include <set>
#include <string>

namespace {

class skip_counter : public Catch::TestEventListenerBase {
public:
    using TestEventListenerBase::TestEventListenerBase;

    void testCaseStarting(const Catch::TestCaseInfo& info) override { current_ = info.name; }

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        const Catch::AssertionResult& r = stats.assertionResult;
        static const std::string prefix = "skipped: ";
        if (r.getResultType() == Catch::ResultWas::Warning) {
            const std::string message = r.getMessage();
            if (message.compare(0, prefix.size(), prefix) == 0) {
                cases_.insert(current_);
                reasons_[message.substr(prefix.size())].insert(current_);
            }
        }
        return true;
    }

    void testRunEnded(const Catch::TestRunStats& stats) override {
        std::cout << "skipped: " << cases_.size() << " of " << stats.totals.testCases.total()
                  << " test cases skipped all or part of their checks\n";
        for (const auto& [reason, cases] : reasons_)
            std::cout << "  " << cases.size() << " x " << reason << " (e.g. \"" << *cases.begin() << "\")\n";
    }

private:
    std::string current_;
    std::set<std::string> cases_;
    std::map<std::string, std::set<std::string>> reasons_;
};

}  // namespace

CATCH_REGISTER_LISTENER(skip_counter)
