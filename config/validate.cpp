// Cross-field rules: unique names, timing that makes sense as a whole, quorum
// counts the failure domains can reach, and files the daemon must read.
#include "config/sections.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace crosscheck::config::detail {

namespace {

// Reports the second and later uses of a name: `kind` is "vantage", "target"...
template <typename Entry>
void check_unique_names(std::string_view kind, const std::vector<Entry>& entries,
                        const std::vector<EntrySource>& sources, Diagnostics& diags) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!sources[i].name_pos) {
      continue;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (sources[j].name_pos && entries[j].name == entries[i].name) {
        diags.error(*sources[i].name_pos, "duplicate " + std::string(kind) + " name " +
                                              quote(entries[i].name) + " (first defined at line " +
                                              std::to_string(sources[j].name_pos->line) + ")");
        break;
      }
    }
  }
}

// `label` prefixes the messages: "defaults" or "targets[0] 'db'". Rules are
// checked only where this section set one of the keys involved, so a target
// that inherits a bad pair from defaults does not repeat the defaults' error.
void check_timing(const std::string& label, const Timing& timing, const TimingSource& source,
                  Diagnostics& diags) {
  if (source.timeout || source.interval) {
    if (timing.timeout >= timing.interval) {
      diags.error(source.timeout ? *source.timeout : *source.interval,
                  label + ": timeout (" + format_duration(timing.timeout) +
                      ") must be shorter than interval (" + format_duration(timing.interval) + ")");
    }
  }
  if (source.stale_after || source.interval) {
    // Why: a vote refreshed once per interval must not expire between probes.
    if (timing.stale_after < timing.interval) {
      diags.error(source.stale_after ? *source.stale_after : *source.interval,
                  label + ": stale_after (" + format_duration(timing.stale_after) +
                      ") must be at least interval (" + format_duration(timing.interval) + ")");
    }
  }
}

void check_quorum_reachable(const std::string& path, const QuorumSpec& spec, SourcePos pos,
                            int known_domains, Diagnostics& diags) {
  if (spec.count && *spec.count > known_domains) {
    diags.error(pos, path + " (" + std::to_string(*spec.count) +
                         ") is larger than the number of failure domains (" +
                         std::to_string(known_domains) + ")");
  }
}

void check_failure_domains(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  if (!sources.domains_known || config.vantages.empty()) {
    return;  // the count would be wrong, and the real error is already reported
  }
  const int known = config.known_domain_count();
  if (sources.quorum_down) {
    check_quorum_reachable("quorum.down", config.quorum.down, *sources.quorum_down, known, diags);
  }
  if (sources.quorum_up) {
    check_quorum_reachable("quorum.up", config.quorum.up, *sources.quorum_up, known, diags);
  }
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    const TargetSource& source = sources.targets[i];
    const std::string path = "targets[" + std::to_string(i) + "].quorum.";
    if (source.down_quorum) {
      check_quorum_reachable(path + "down", config.targets[i].down_quorum, *source.down_quorum,
                             known, diags);
    }
    if (source.up_quorum) {
      check_quorum_reachable(path + "up", config.targets[i].up_quorum, *source.up_quorum, known,
                             diags);
    }
  }
  if (known < 2) {
    const std::vector<std::string> domains = config.local_domains();
    diags.warning(sources.vantages_pos.value_or(SourcePos{1, 1}),
                  "only 1 failure domain (" + domains.front() +
                      "): a lone domain cannot tell an observer problem from an outage; add "
                      "vantages in other failure domains");
  }
}

// strerror() text when the daemon could not read `path`, nullopt when it can.
std::optional<std::string> unreadable_reason(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::strerror(errno);
  }
  struct stat info {};
  const bool is_directory = ::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode);
  ::close(fd);
  if (is_directory) {
    return std::strerror(EISDIR);
  }
  return std::nullopt;
}

}  // namespace

void validate(const Config& config, const SourceMap& sources, Diagnostics& diags) {
  check_unique_names("vantage", config.vantages, sources.vantages, diags);
  check_unique_names("peer", config.peers, sources.peers, diags);
  std::vector<EntrySource> target_entries;
  target_entries.reserve(sources.targets.size());
  for (const TargetSource& source : sources.targets) {
    target_entries.push_back(source.entry);
  }
  check_unique_names("target", config.targets, target_entries, diags);

  for (std::size_t i = 0; i < config.peers.size(); ++i) {
    if (sources.peers[i].name_pos && config.peers[i].name == config.node.name) {
      diags.error(*sources.peers[i].name_pos,
                  entry_label("peers[" + std::to_string(i) + "]", config.peers[i].name) +
                      ": a peer cannot have this node's own name");
    }
  }

  if (sources.defaults.clean) {
    check_timing("defaults", config.defaults, sources.defaults, diags);
    for (std::size_t i = 0; i < config.targets.size(); ++i) {
      const TargetConfig& target = config.targets[i];
      if (sources.targets[i].timing.clean) {
        check_timing(entry_label("targets[" + std::to_string(i) + "]", target.name), target.timing,
                     sources.targets[i].timing, diags);
      }
    }
  }

  check_failure_domains(config, sources, diags);

  for (const FileReference& file : sources.files) {
    if (auto reason = unreadable_reason(file.path)) {
      diags.error(file.pos,
                  "cannot read " + file.key + " " + quote(file.path.string()) + ": " + *reason);
    }
  }
}

}  // namespace crosscheck::config::detail
