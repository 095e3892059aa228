// `groups:`: named sets of targets with a verdict, generation and gate of
// their own (docs/groups.md). Part of load_config() (loader.cpp); read after
// `targets:`, whose names the members are.
#include "config/sections.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace crosscheck::config::detail {

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 7> k_group_keys{
    "name",       "members",     "healthy_at_least", "max_unhealthy_fraction",
    "flap_limit", "flap_window", "cooldown"};
// A group larger than this is a typo or a generated file gone wrong; the
// guard's bookkeeping is per member and per group.
constexpr std::size_t k_max_members = 10'000;

// Targets by name, built once for every group: a scan per member made a
// file of 20 groups of 10,000 members take 46 s to check (hostile review).
using TargetIndex = std::unordered_map<std::string_view, const TargetConfig*>;

void read_members(const Field& field, GroupConfig& group, const TargetIndex& targets,
                  LoadContext& ctx) {
  if (!expect_sequence(field, ctx.diags)) {
    return;
  }
  if (field.node.size() == 0) {
    ctx.diags.error(field.pos, field.path + " must list at least one target");
    return;
  }
  if (field.node.size() > k_max_members) {
    ctx.diags.error(field.pos, field.path + " lists " + std::to_string(field.node.size()) +
                                   " members; at most " + std::to_string(k_max_members));
    return;
  }
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const Field item = element(field, i, field.node[i]);
    const auto name = read_string(item, ctx.diags);
    if (!name) {
      continue;
    }
    const auto found = targets.find(*name);
    const auto* target = found == targets.end() ? nullptr : found->second;
    if (target == nullptr) {
      ctx.diags.error(item.pos, "unknown target " + quote(*name) + " in " + item.path +
                                    ": a group's members are targets of `targets:`");
    } else if (target->canary) {
      ctx.diags.error(item.pos, item.path + " " + quote(*name) +
                                    " is a canary: a canary checks the observers, it is no " +
                                    "member of a service's group");
    } else if (!seen.insert(*name).second) {
      ctx.diags.error(item.pos,
                      item.path + " " + quote(*name) + " is listed twice in " + field.path);
    } else {
      group.members.push_back(*name);
    }
  }
}

void read_group(const Field& field, const TargetIndex& targets, LoadContext& ctx) {
  Diagnostics& diags = ctx.diags;
  const MapReader map(field, Keys(k_group_keys), diags);
  if (!map.is_mapping()) {
    return;
  }
  GroupConfig group;
  group.pos = field.pos;
  EntrySource source{field.pos, std::nullopt};
  group.name = read_entry_name(map, source, diags).value_or("");
  if (!group.name.empty() && ctx.config.find_group(group.name) != nullptr) {
    diags.error(source.name_pos.value_or(field.pos),
                "duplicate group name " + quote(group.name) + " in " + field.path);
  }
  if (auto members = map.require("members")) {
    read_members(*members, group, targets, ctx);
  }
  if (auto need = map.require("healthy_at_least")) {
    const auto count = read_integer(*need, 1, k_no_max, diags);
    if (count && !group.members.empty() &&
        *count > static_cast<std::int64_t>(group.members.size())) {
      diags.error(need->pos, need->path + " is " + std::to_string(*count) + " but the group has " +
                                 std::to_string(group.members.size()) +
                                 " members: it could never be healthy");
    }
    group.healthy_at_least = static_cast<int>(count.value_or(1));
  }
  group.max_unhealthy_fraction = map.fraction("max_unhealthy_fraction");
  if (group.max_unhealthy_fraction && !group.members.empty()) {
    // The guard holds the member whose confirmation would exceed the
    // fraction, counting those already unhealthy: one that allows fewer
    // unhealthy members than the group needs to be unhealthy
    // (members - healthy_at_least + 1) means the group is never confirmed,
    // however many nodes die (hostile review).
    const auto members = static_cast<double>(group.members.size());
    const auto allowed =
        static_cast<int>(std::floor(*group.max_unhealthy_fraction * members + 1e-9));
    const auto needed = static_cast<int>(group.members.size()) - group.healthy_at_least + 1;
    if (allowed < needed) {
      const auto field_pos = map.get("max_unhealthy_fraction")->pos;
      ctx.diags.error(field_pos,
                      map.path() + ".max_unhealthy_fraction lets at most " +
                          std::to_string(allowed) + " of " + std::to_string(group.members.size()) +
                          " members be unhealthy, but the group is unhealthy only with " +
                          std::to_string(needed) +
                          ": it could never be confirmed; raise it to at least " +
                          std::to_string(needed) + "/" + std::to_string(group.members.size()));
    }
  }
  if (const auto limit = map.integer("flap_limit", 1)) {
    group.flap_limit = static_cast<int>(*limit);
  }
  group.flap_window = map.duration("flap_window", ZeroDuration::Rejected);
  group.cooldown = read_cooldown(map, diags).value_or(ctx.config.gate.cooldown);
  if (!group.name.empty()) {
    ctx.config.groups.push_back(std::move(group));
  }
}

}  // namespace

void read_groups(const Field& field, LoadContext& ctx) {
  if (field.node.IsNull()) {
    return;  // "groups:" with every entry commented out
  }
  if (!expect_sequence(field, ctx.diags)) {
    return;
  }
  TargetIndex targets;
  for (const auto& target : ctx.config.targets) {
    targets.emplace(target.name, &target);
  }
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    read_group(element(field, i, field.node[i]), targets, ctx);
  }
}

}  // namespace crosscheck::config::detail
