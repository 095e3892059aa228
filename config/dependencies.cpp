// Cross-target rules of `depends_on:`: every name is another, non-canary
// target, and the dependencies form no cycle (a cycle would let two targets
// each blame the other and neither page). Pure checks on the read config.
#include "config/sections.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace crosscheck::config::detail {

namespace {

std::string target_label(const Config& config, std::size_t index) {
  return entry_label("targets[" + std::to_string(index) + "]", config.targets[index].name);
}

// The closest target name to a misspelt one, for "did you mean".
std::optional<std::string> nearest_target(const Config& config, std::string_view name) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // suggest only near misses
  for (const auto& target : config.targets) {
    // Why the length first: the edit distance is at least the length
    // difference, and a file naming thousands of unknown parents compared
    // each with every target (24 s for 10,000 names at 2,000 targets).
    const auto longer = std::max(name.size(), target.name.size());
    const auto shorter = std::min(name.size(), target.name.size());
    if (longer - shorter >= best_distance) {
      continue;
    }
    const auto distance = edit_distance(name, target.name);
    if (distance < best_distance) {
      best_distance = distance;
      best = target.name;
    }
  }
  return best;
}

// Edges: for each target, the indices of the targets it depends on (names
// that resolve; the rest are reported on their own), with where each is.
struct Graph {
  std::vector<std::vector<std::pair<std::size_t, SourcePos>>> parents;
};

// Reports every cycle once, named from its first target in file order:
// "depends_on cycle: a -> b -> c -> a", at a's entry naming b. Why an
// iterative walk: a chain of thousands of targets must not exhaust the stack.
void report_cycles(const Config& config, const Graph& graph, Diagnostics& diags) {
  enum class Mark : std::uint8_t { New, OnPath, Done };
  const std::size_t count = graph.parents.size();
  std::vector<Mark> marks(count, Mark::New);
  std::set<std::vector<std::size_t>> reported;
  for (std::size_t root = 0; root < count; ++root) {
    if (marks[root] != Mark::New) {
      continue;
    }
    // The walk's path: (target, next edge to follow).
    std::vector<std::pair<std::size_t, std::size_t>> path{{root, 0}};
    marks[root] = Mark::OnPath;
    while (!path.empty()) {
      auto& [node, next] = path.back();
      if (next == graph.parents[node].size()) {
        marks[node] = Mark::Done;
        path.pop_back();
        continue;
      }
      const std::size_t parent = graph.parents[node][next++].first;
      if (marks[parent] == Mark::New) {
        marks[parent] = Mark::OnPath;
        path.emplace_back(parent, 0);
        continue;
      }
      if (marks[parent] != Mark::OnPath) {
        continue;
      }
      std::vector<std::size_t> cycle;
      auto start = std::find_if(path.begin(), path.end(),
                                [&](const auto& step) { return step.first == parent; });
      for (; start != path.end(); ++start) {
        cycle.push_back(start->first);
      }
      std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
      if (!reported.insert(cycle).second) {
        continue;
      }
      std::string text;
      for (const std::size_t member : cycle) {
        text += config.targets[member].name + " -> ";
      }
      text += config.targets[cycle.front()].name;
      const std::size_t second = cycle.size() > 1 ? cycle[1] : cycle.front();
      const auto& edges = graph.parents[cycle.front()];
      const auto edge = std::find_if(edges.begin(), edges.end(),
                                     [&](const auto& item) { return item.first == second; });
      diags.error(edge != edges.end() ? edge->second : config.targets[cycle.front()].pos,
                  target_label(config, cycle.front()) + ": depends_on cycle: " + text +
                      " (a target cannot depend on itself through others)");
    }
  }
}

}  // namespace

void check_dependencies(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  std::map<std::string_view, std::size_t> index_of;
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    index_of.emplace(config.targets[i].name, i);  // a duplicate name is reported elsewhere
  }
  Graph graph;
  graph.parents.resize(config.targets.size());
  int suggestions_left = 100;
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    const auto& target = config.targets[i];
    const auto& positions = sources.targets[i].depends_on;
    if (positions.size() != target.depends_on.size()) {
      continue;  // not read cleanly; reported where it was read
    }
    const std::string label = target_label(config, i);
    if (target.canary && !target.depends_on.empty()) {
      diags.error(positions.front(),
                  label +
                      ": a canary cannot have depends_on: a canary judges the observers, and "
                      "must be judged on its own evidence");
      continue;
    }
    for (std::size_t j = 0; j < target.depends_on.size(); ++j) {
      const auto& name = target.depends_on[j];
      const auto found = index_of.find(name);
      if (found == index_of.end()) {
        // Suggestions for the first names only: past them the file has a
        // bigger problem than a typo, and each costs a pass over the targets.
        const auto near = suggestions_left > 0 ? nearest_target(config, name) : std::nullopt;
        suggestions_left -= suggestions_left > 0 ? 1 : 0;
        diags.error(positions[j], label + ": depends_on " + quote(name) + " is not a target" +
                                      (near ? " (did you mean " + quote(*near) + "?)" : ""));
      } else if (found->second == i) {
        diags.error(positions[j], label + ": depends_on names the target itself");
      } else if (config.targets[found->second].canary) {
        diags.error(positions[j], label + ": depends_on " + quote(name) +
                                      " is a canary: canaries judge the observers, not a "
                                      "service a target can depend on");
      } else {
        graph.parents[i].emplace_back(found->second, positions[j]);
      }
    }
  }
  report_cycles(config, graph, diags);
}

}  // namespace crosscheck::config::detail
