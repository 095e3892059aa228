#include "snapshot/divergence.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace crosscheck::snapshot {

namespace {

// Only fresh observations that reached DNS: a stale vote or an observer
// error says nothing about what the resolver answers now.
bool tells_answers(const consensus::Evidence& item) {
  return !item.stale && item.last && item.last->outcome != consensus::Outcome::ObserverError;
}

// Whether every vantage that tells answers got the same list: then there is
// one set and no divergence. Why first: this runs for every target at every
// publication, and the answers nearly always agree, in the same order; the
// general comparison below copies and sorts them into sets.
bool all_alike(const std::vector<consensus::Evidence>& evidence) {
  const std::vector<std::string>* first = nullptr;
  for (const auto& item : evidence) {
    if (!tells_answers(item)) {
      continue;
    }
    if (first == nullptr) {
      first = &item.last->answers;
    } else if (item.last->answers != *first) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<Divergence> find_divergence(const std::vector<consensus::Evidence>& evidence) {
  if (all_alike(evidence)) {
    return {};
  }
  std::vector<Divergence> seen;
  std::map<std::string, std::set<std::vector<std::string>>> sets_by_domain;
  std::set<std::vector<std::string>> distinct;
  for (const auto& item : evidence) {
    if (!tells_answers(item)) {
      continue;
    }
    auto answers = item.last->answers;
    std::sort(answers.begin(), answers.end());
    answers.erase(std::unique(answers.begin(), answers.end()), answers.end());
    distinct.insert(answers);
    sets_by_domain[item.domain].insert(answers);
    seen.push_back(Divergence{item.vantage, item.domain, std::move(answers)});
  }
  // Divergence needs two domains that disagree, not just two sets: two
  // vantages of one domain disagreeing is one domain's problem, counted
  // the same way the quorum counts domains.
  if (distinct.size() < 2 || sets_by_domain.size() < 2) {
    return {};
  }
  bool across_domains = false;
  for (const auto& [domain, sets] : sets_by_domain) {
    for (const auto& [other, other_sets] : sets_by_domain) {
      if (domain < other && sets != other_sets) {
        across_domains = true;
      }
    }
  }
  return across_domains ? seen : std::vector<Divergence>{};
}

}  // namespace crosscheck::snapshot
