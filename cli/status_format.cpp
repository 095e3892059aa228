// The verdict table and the watch lines. Colour is decoration only: every
// fact is also in the words, so piped output (no colour, no symbols) loses
// nothing a script needs.
#include "cli/status_format.hpp"

#include "consensus/time_format.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace crosscheck::cli {
namespace {

namespace cs = consensus;
using namespace std::chrono_literals;

constexpr std::string_view k_ellipsis = "…";

std::string two_digits(long long value) {
  return (value < 10 ? "0" : "") + std::to_string(value);
}

std::string votes_cell(const snapshot::TargetView& view, bool has_votes) {
  if (!has_votes) {
    return "-";
  }
  // up/down/unknown, then the degraded and split domains only when there are some.
  const auto& votes = view.verdict.votes;
  return std::to_string(votes.up) + "/" + std::to_string(votes.down) + "/" +
         std::to_string(votes.unknown) +
         (votes.degraded > 0 ? " +" + std::to_string(votes.degraded) + " slow" : "") +
         (votes.split > 0 ? " +" + std::to_string(votes.split) + " split" : "");
}

std::string held_cell(const cs::Verdict& verdict) {
  return verdict.held ? std::string(cs::to_string(*verdict.held)) : "-";
}

// Days the earliest certificate has left: "89d", "0d", "expired"; "-" without one.
std::string cert_cell(const cs::Verdict& verdict, cs::WallTime now) {
  if (!verdict.cert_not_after) {
    return "-";
  }
  if (*verdict.cert_not_after < now) {
    return "expired";
  }
  return std::to_string(
             std::chrono::floor<std::chrono::days>(*verdict.cert_not_after - now).count()) +
         "d";
}

std::string layer_cell(const cs::Verdict& verdict) {
  return verdict.failing_layer ? std::string(cs::to_string(*verdict.failing_layer)) : "-";
}

// Cuts `text` to `width` columns, marking the cut with an ellipsis.
std::string fit(const std::string& text, std::size_t width) {
  if (width == 0 || display_width(text) <= width) {
    return text;
  }
  std::string out;
  std::size_t columns = 0;
  for (const char c : text) {
    const bool starts_character = (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    if (starts_character && ++columns > width - 1) {
      break;
    }
    out += c;
  }
  return out + std::string(k_ellipsis);
}

// "crosscheck oracle-a, revision 42: 3 targets (1 healthy, 1 disputed, 1 unknown)".
// The first line, cut to `width` columns (0: no limit) like the rows.
std::string header(const snapshot::VerdictList& list, const Paint& paint, std::size_t width) {
  std::map<cs::VerdictKind, int> counts;
  for (const auto& view : list.targets) {
    ++counts[view.verdict.kind];
  }
  std::string parts;
  for (const auto& [kind, count] : counts) {
    parts += (parts.empty() ? "" : ", ") + std::to_string(count) + " " +
             std::string(cs::to_string(kind));
  }
  const auto total = list.targets.size();
  const std::string name = "crosscheck" + (list.node.empty() ? "" : " " + list.node);
  const std::string rest = ", revision " + std::to_string(list.revision) + ": " +
                           std::to_string(total) + (total == 1 ? " target" : " targets") +
                           (parts.empty() ? "" : " (" + parts + ")");
  // The name is painted: only the plain rest is cut.
  const auto name_width = display_width(name);
  const auto rest_width = width == 0 ? 0 : width > name_width ? width - name_width : 1;
  return paint(name, "1") + fit(rest, rest_width) + "\n";
}

std::vector<std::string> table_row(const snapshot::TargetView& view, bool has_votes, bool certs,
                                   cs::WallTime now, const FormatOptions& options) {
  const Paint paint{options.colour};
  const auto& verdict = view.verdict;
  std::vector<std::string> row{verdict.target + (verdict.canary ? " (canary)" : "") +
                                   (verdict.maintenance ? " (maintenance)" : ""),
                               verdict_word(verdict.kind, paint), held_cell(verdict)};
  if (options.wide) {
    row.push_back(std::to_string(verdict.generation));
  }
  row.push_back(relative_time(verdict.since, now));
  if (options.wide) {
    row.push_back(cs::format_rfc3339(verdict.since));
  }
  row.push_back(votes_cell(view, has_votes));
  row.push_back(layer_cell(verdict));
  if (certs) {
    row.push_back(cert_cell(verdict, now));
  }
  row.push_back(verdict.maintenance
                    ? "in maintenance until " + cs::format_rfc3339(verdict.maintenance->until) +
                          ", gates hold; " + verdict.reason
                    : verdict.reason);
  return row;
}

// Rows laid out in columns two spaces apart; the last column (REASON) is
// not padded and, with a width, cut to fit the line.
std::string layout(const std::vector<std::vector<std::string>>& rows, std::size_t width) {
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::size_t used = 0;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    used += widths[i] + 2;
  }
  const std::size_t room =
      width == 0 ? 0 : std::max<std::size_t>(width > used ? width - used : 0, 10);
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      line += pad(row[i], widths[i]) + "  ";
    }
    out += line + fit(row.back(), room) + "\n";
  }
  return out;
}

// "stale: web (valid until 06:00:30Z, 45s ago); do not act on these verdicts".
std::string stale_warning(const snapshot::VerdictList& list, cs::WallTime now, const Paint& paint) {
  std::string names;
  for (const auto& view : list.targets) {
    const auto& verdict = view.verdict;
    if (verdict.valid_until.time_since_epoch().count() != 0 && now > verdict.valid_until) {
      names += (names.empty() ? "" : ", ") + verdict.target + " (valid until " +
               cs::format_rfc3339(verdict.valid_until) + ", " +
               relative_time(verdict.valid_until, now) + ")";
    }
  }
  if (names.empty()) {
    return {};
  }
  return paint("stale: ", "1;33") + names +
         "; the oracle has not re-evaluated these: do not act on them";
}

std::string change_line(const snapshot::TargetView* before, const snapshot::TargetView* after,
                        const Paint& paint) {
  const snapshot::TargetView& now = after != nullptr ? *after : *before;
  const auto& verdict = now.verdict;
  std::string line = cs::format_rfc3339(after != nullptr ? verdict.since : verdict.evaluated_at) +
                     " " + verdict.target + "  " +
                     (before != nullptr ? verdict_word(before->verdict.kind, paint) : "(new)") +
                     " -> " + (after != nullptr ? verdict_word(verdict.kind, paint) : "(removed)");
  if (after == nullptr) {
    return line;
  }
  if (verdict.held) {
    line += " (held " + std::string(cs::to_string(*verdict.held)) + ")";
  }
  line += "  gen " + std::to_string(verdict.generation);
  return verdict.reason.empty() ? line : line + "  " + verdict.reason;
}

bool moved(const cs::Verdict& before, const cs::Verdict& after) {
  return before.kind != after.kind || before.held != after.held ||
         before.generation != after.generation;
}

const snapshot::TargetView* find(const snapshot::VerdictList& list, const std::string& target) {
  const auto found =
      std::find_if(list.targets.begin(), list.targets.end(),
                   [&](const snapshot::TargetView& view) { return view.verdict.target == target; });
  return found == list.targets.end() ? nullptr : &*found;
}

}  // namespace

std::string Paint::operator()(std::string_view text, std::string_view code) const {
  if (!on) {
    return std::string(text);
  }
  return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
}

std::string format_age(cs::Duration age) {
  const long long seconds = std::max<long long>(age.count(), 0) / 1000;
  if (seconds < 60) {
    return std::to_string(seconds) + "s";
  }
  if (seconds < 3600) {
    return std::to_string(seconds / 60) + "m" + two_digits(seconds % 60) + "s";
  }
  if (seconds < 86400) {
    return std::to_string(seconds / 3600) + "h" + two_digits(seconds / 60 % 60) + "m";
  }
  return std::to_string(seconds / 86400) + "d" + two_digits(seconds / 3600 % 24) + "h";
}

std::string relative_time(cs::WallTime at, cs::WallTime now) {
  const auto delta = now - at;
  if (delta < 1s && delta > -1s) {
    return "just now";
  }
  return delta > cs::Duration::zero() ? format_age(delta) + " ago" : "in " + format_age(-delta);
}

std::string verdict_word(cs::VerdictKind kind, const Paint& paint, bool upper) {
  std::string word(cs::to_string(kind));
  if (upper) {
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  if (!paint.on) {
    return word;
  }
  // Symbols only with colour: piped output stays plain ASCII for scripts.
  switch (kind) {
    case cs::VerdictKind::Healthy:
      return paint("✔ " + word, "32");
    case cs::VerdictKind::Unhealthy:
      return paint("✖ " + word, "1;31");
    case cs::VerdictKind::Disputed:
      return paint("⚠ " + word, "1;33");
    case cs::VerdictKind::Unreachable:
      return paint("⤓ " + word, "33");
    case cs::VerdictKind::Degraded:
      return paint("◐ " + word, "1;35");
    case cs::VerdictKind::Unknown:
      break;
  }
  return paint("? " + word, "90");
}

std::string format_status(const snapshot::VerdictList& list, cs::WallTime now,
                          const FormatOptions& options) {
  const Paint paint{options.colour};
  std::string out = header(list, paint, options.width);
  if (list.targets.empty()) {
    return out + "no targets configured\n";
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TARGET", "VERDICT", "HELD"});
  if (options.wide) {
    rows.back().emplace_back("GEN");
  }
  rows.back().emplace_back("SINCE");
  if (options.wide) {
    rows.back().emplace_back("AT");
  }
  rows.back().emplace_back("VOTES");
  rows.back().emplace_back("LAYER");
  // CERT only when a target has a certificate to show (docs/cli.md).
  const bool certs = std::any_of(list.targets.begin(), list.targets.end(),
                                 [](const auto& view) { return view.verdict.cert_not_after; });
  if (certs) {
    rows.back().emplace_back("CERT");
  }
  rows.back().emplace_back("REASON");
  for (std::size_t i = 0; i < list.targets.size(); ++i) {
    const bool has_votes = i < list.has_votes.size() && list.has_votes[i];
    rows.push_back(table_row(list.targets[i], has_votes, certs, now, options));
  }
  const auto warning = stale_warning(list, now, paint);
  return out + layout(rows, options.width) +
         (warning.empty() ? "" : fit(warning, options.width) + "\n");
}

std::vector<std::string> format_changes(const snapshot::VerdictList& before,
                                        const snapshot::VerdictList& after,
                                        const FormatOptions& options) {
  const Paint paint{options.colour};
  std::vector<std::string> lines;
  for (const auto& view : after.targets) {
    const snapshot::TargetView* old = find(before, view.verdict.target);
    if (old == nullptr || moved(old->verdict, view.verdict)) {
      lines.push_back(change_line(old, &view, paint));
    }
  }
  for (const auto& view : before.targets) {
    if (find(after, view.verdict.target) == nullptr) {
      lines.push_back(change_line(&view, nullptr, paint));
    }
  }
  return lines;
}

std::size_t display_width(std::string_view text) {
  std::size_t columns = 0;
  bool escape = false;
  for (const char c : text) {
    if (escape) {
      escape = c != 'm';  // SGR sequences end with 'm'
      continue;
    }
    if (c == '\033') {
      escape = true;
      continue;
    }
    // One column per code point: count every byte but UTF-8 continuations.
    columns += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  }
  return columns;
}

std::string pad(std::string_view text, std::size_t width) {
  const std::size_t columns = display_width(text);
  return std::string(text) + std::string(width > columns ? width - columns : 0, ' ');
}

}  // namespace crosscheck::cli
