// The daemon's log lines: text for a terminal, syslog-prefixed lines for
// journald, JSON lines for log shippers. Formatting is pure (no clock, no
// environment); only read_stream_facts() looks at the process.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog {
class logger;
}

namespace crosscheck::daemon {

enum class LogFormat { Auto, Text, Journal, Json };

// "auto", "text", "journal", "json".
std::string_view to_string(LogFormat format);
// The inverse of to_string; nullopt for anything else.
std::optional<LogFormat> parse_log_format(std::string_view text);

// An open file's identity, as JOURNAL_STREAM names it ("DEVICE:INODE").
struct FileId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileId&) const = default;
};

// What choosing the Auto format depends on.
struct StreamFacts {
  std::optional<std::string> journal_stream;  // $JOURNAL_STREAM, when set
  std::optional<FileId> log_file;             // fstat(2) of the stream we log to
};

// Reads $JOURNAL_STREAM and fstat(2)s `fd`.
StreamFacts read_stream_facts(int fd);
// "2049:1234" -> {2049, 1234}; nullopt unless two decimal numbers.
std::optional<FileId> parse_journal_stream(std::string_view text);
// Auto becomes Journal when JOURNAL_STREAM names the file we log to, else Text;
// any other format is kept.
LogFormat resolve_format(LogFormat requested, const StreamFacts& facts);

// One message as the formatters see it. The notice logger's info-level
// messages are notices (spdlog has no notice level); its other levels stay.
struct LogRecord {
  spdlog::level::level_enum level = spdlog::level::info;
  bool notice = false;
  std::chrono::system_clock::time_point time;
  std::string_view message;
};

// syslog(3) priority: 7 debug/trace, 6 info, 5 notice, 4 warn, 3 err, 2 crit.
int syslog_priority(const LogRecord& record);
// "trace", "debug", "info", "notice", "warning", "error" or "critical".
std::string_view level_name(const LogRecord& record);

// "<5>message": no timestamp or level word (journald records both); line
// breaks in the message become the two characters \n so that one message
// stays one journal entry with its priority.
std::string format_journal(const LogRecord& record);
// "2026-11-25T13:40:02.118+0000 NOTICE message" in local time; the level
// word in ANSI colour when `colour`.
std::string format_text(const LogRecord& record, bool colour);
// {"ts":"2026-11-25T13:40:02.118Z","level":"notice","msg":"...","event":...,
// fields...}: one JSON object, the message whole plus parse_fields() of it.
std::string format_json(const LogRecord& record);
// The line for `format` (Auto is taken as Text), without a line break.
std::string format_line(LogFormat format, const LogRecord& record, bool colour);

// What a message says in key=value form. The rule, scanning words separated
// by spaces:
// - a field is KEY=VALUE, KEY a letter or '_' then letters, digits, '_', '.'
//   or '-'; VALUE runs to the next space, or is "quoted" (spaces allowed,
//   \" and \\ stand for " and \, an unterminated quote runs to the end);
// - the event is the bare words (letters, digits, '_', '.', '-') that open
//   the message, joined by a space, when a field follows them directly:
//   "escalation resolved kind=dispute" -> event "escalation resolved";
// - other words are not fields; values are strings; the first of two equal
//   keys wins, and in JSON no field replaces ts, level, msg or event.
//   Fields are extra: the message is always logged whole.
struct LogFields {
  std::string event;
  std::vector<std::pair<std::string, std::string>> fields;
};
LogFields parse_fields(std::string_view message);
// `value` as a quoted field value that parse_fields() reads back unchanged:
// "say \"hi\"" for say "hi".
std::string quote_field(std::string_view value);

inline constexpr std::string_view k_main_logger = "crosscheck";
inline constexpr std::string_view k_notice_logger = "crosscheck.notice";

// Two loggers on the same sink: `notice` is for verdict changes and
// escalations (its info messages are notices), `main` for the rest.
struct Loggers {
  std::shared_ptr<spdlog::logger> main;
  std::shared_ptr<spdlog::logger> notice;
};

// Gives `sink` the formatter for `format` and puts both loggers on it, at
// `level`, flushing every message from info up. Not registered with spdlog.
Loggers make_loggers(LogFormat format, spdlog::level::level_enum level,
                     const spdlog::sink_ptr& sink, bool colour);

}  // namespace crosscheck::daemon
