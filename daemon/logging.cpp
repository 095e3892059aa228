#include "daemon/logging.hpp"
#include "json/write.hpp"

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>
#include <boost/json/value.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <ctime>

namespace crosscheck::daemon {
namespace {

constexpr auto k_npos = std::string_view::npos;

struct LevelStyle {
  std::string_view name;  // JSON "level"
  std::string_view word;  // text format
  int priority;           // syslog(3)
  std::string_view colour;
};

// Indexed by spdlog::level::level_enum (trace .. critical).
constexpr std::array<LevelStyle, 6> k_levels{{{"trace", "TRACE", 7, "2"},
                                              {"debug", "DEBUG", 7, "2"},
                                              {"info", "INFO", 6, "32"},
                                              {"warning", "WARN", 4, "33"},
                                              {"error", "ERROR", 3, "31"},
                                              {"critical", "CRIT", 2, "1;31"}}};
constexpr LevelStyle k_notice{"notice", "NOTICE", 5, "1;36"};
constexpr std::size_t k_word_width = 6;  // "NOTICE": messages start in one column

const LevelStyle& style_of(const LogRecord& record) {
  if (record.notice && record.level == spdlog::level::info) {
    return k_notice;
  }
  const auto index = static_cast<std::size_t>(record.level);
  // level::off is not a level a message has; spdlog still lets one be logged.
  return index < k_levels.size() ? k_levels.at(index) : k_levels.back();
}

// "2026-11-25T13:40:02.118Z" (utc) or "2026-11-25T13:40:02.118+0100" (local).
std::string stamp(std::chrono::system_clock::time_point time, bool utc) {
  const auto since = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds);
  const std::time_t whole = seconds.count();
  std::tm parts{};
  if (utc) {
    gmtime_r(&whole, &parts);
  } else {
    localtime_r(&whole, &parts);
  }
  std::array<char, 40> text{};
  std::string out(text.data(),
                  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &parts));
  const auto ms = std::to_string(millis.count());
  out += "." + std::string(3 - ms.size(), '0') + ms;
  if (utc) {
    return out + "Z";
  }
  return out + std::string(text.data(), std::strftime(text.data(), text.size(), "%z", &parts));
}

// Length of the well-formed UTF-8 sequence at text[at]; 0 when ill-formed
// (overlong forms, surrogates and code points past U+10FFFF included).
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : low;
    high = lead == 0xED ? 0x9F : high;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : low;
    high = lead == 0xF4 ? 0x8F : high;
  } else {
    return 0;
  }
  if (at + length > text.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if (next < (i == 1 ? low : 0x80) || next > (i == 1 ? high : 0xBF)) {
      return 0;
    }
  }
  return length;
}

// Messages carry bytes from the network (DNS names, HTTP reasons); JSON
// must be UTF-8, so each ill-formed byte becomes U+FFFD.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const auto length = utf8_length(text, at);
    out += length == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(at, length);
    at += std::max<std::size_t>(length, 1);
  }
  return out;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

bool is_bare_word(std::string_view word) {
  return !word.empty() && std::isalpha(static_cast<unsigned char>(word.front())) != 0 &&
         std::all_of(word.begin(), word.end(), is_word_char);
}

// The '=' of a KEY=VALUE word starting at `at`; k_npos when the word is no field.
std::size_t key_end(std::string_view text, std::size_t at) {
  if (std::isalpha(static_cast<unsigned char>(text[at])) == 0 && text[at] != '_') {
    return k_npos;
  }
  std::size_t end = at + 1;
  while (end < text.size() && is_word_char(text[end])) {
    ++end;
  }
  return end < text.size() && text[end] == '=' ? end : k_npos;
}

std::size_t word_end(std::string_view text, std::size_t at) {
  return std::min(text.find(' ', at), text.size());
}

// The value starting at `at` (just after '=') and where it ends.
std::pair<std::string, std::size_t> read_value(std::string_view text, std::size_t at) {
  if (at >= text.size() || text[at] != '"') {
    const auto end = word_end(text, at);
    return {std::string(text.substr(at, end - at)), end};
  }
  std::string value;
  std::size_t i = at + 1;
  for (; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
      ++i;
    }
    value += text[i];
  }
  return {std::move(value), std::min(i + 1, text.size())};
}

// A decimal number that is all of `text`: no sign, no spaces.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string joined;
  for (const auto word : words) {
    joined += (joined.empty() ? "" : " ") + std::string(word);
  }
  return joined;
}

// Lays out every message of the loggers on one sink; the notice logger's
// name is how a notice is told from an info message.
class LineFormatter final : public spdlog::formatter {
 public:
  LineFormatter(LogFormat format, bool colour) : format_(format), colour_(colour) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const LogRecord record{
        msg.level,
        std::string_view(msg.logger_name.data(), msg.logger_name.size()) == k_notice_logger,
        msg.time, std::string_view(msg.payload.data(), msg.payload.size())};
    const auto line = format_line(format_, record, colour_);
    dest.append(line);
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_, colour_);
  }

 private:
  LogFormat format_;
  bool colour_;
};

}  // namespace

std::string_view to_string(LogFormat format) {
  switch (format) {
    case LogFormat::Auto:
      return "auto";
    case LogFormat::Text:
      return "text";
    case LogFormat::Journal:
      return "journal";
    case LogFormat::Json:
      return "json";
  }
  return "auto";
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  for (const auto format :
       {LogFormat::Auto, LogFormat::Text, LogFormat::Journal, LogFormat::Json}) {
    if (to_string(format) == text) {
      return format;
    }
  }
  return std::nullopt;
}

StreamFacts read_stream_facts(int fd) {
  StreamFacts facts;
  if (const char* stream = std::getenv("JOURNAL_STREAM"); stream != nullptr) {
    facts.journal_stream = stream;
  }
  struct stat status {};
  if (fstat(fd, &status) == 0) {
    facts.log_file = FileId{status.st_dev, status.st_ino};
  }
  return facts;
}

std::optional<FileId> parse_journal_stream(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == k_npos) {
    return std::nullopt;
  }
  const auto device = parse_number(text.substr(0, colon));
  const auto inode = parse_number(text.substr(colon + 1));
  if (!device || !inode) {
    return std::nullopt;
  }
  return FileId{*device, *inode};
}

LogFormat resolve_format(LogFormat requested, const StreamFacts& facts) {
  if (requested != LogFormat::Auto) {
    return requested;
  }
  // systemd sets JOURNAL_STREAM for a unit whose stderr is the journal; the
  // variable is inherited, so a process whose stderr was redirected (say
  // `crosscheck run 2>/tmp/log` from a unit's shell) must check that it
  // still names our stream, as systemd.exec(5) advises.
  if (facts.journal_stream && facts.log_file &&
      parse_journal_stream(*facts.journal_stream) == facts.log_file) {
    return LogFormat::Journal;
  }
  return LogFormat::Text;
}

int syslog_priority(const LogRecord& record) {
  return style_of(record).priority;
}

std::string_view level_name(const LogRecord& record) {
  return style_of(record).name;
}

namespace {

// Appends `message` with CR and LF written as \r and \n: one record, one
// line, whatever a value from the network or an API caller carries.
void append_one_line(std::string& line, std::string_view message) {
  line.reserve(line.size() + message.size());
  for (const char c : message) {
    if (c == '\n') {
      line += "\\n";
    } else if (c == '\r') {
      line += "\\r";
    } else {
      line += c;
    }
  }
}

}  // namespace

std::string format_journal(const LogRecord& record) {
  std::string line = "<" + std::to_string(syslog_priority(record)) + ">";
  append_one_line(line, record.message);
  return line;
}

std::string format_text(const LogRecord& record, bool colour) {
  const auto& style = style_of(record);
  const std::string padding(k_word_width - std::min(k_word_width, style.word.size()), ' ');
  std::string word(style.word);
  if (colour) {
    word = "\033[" + std::string(style.colour) + "m" + word + "\033[0m";
  }
  // Why escaped like the journal's: a raw newline in a message started a
  // line of its own that a reader (or a log shipper) took for a real record.
  std::string line = stamp(record.time, false) + " " + word + padding + " ";
  append_one_line(line, record.message);
  return line;
}

std::string format_json(const LogRecord& record) {
  const auto message = valid_utf8(record.message);
  boost::json::object line;
  line["ts"] = stamp(record.time, true);
  line["level"] = level_name(record);
  line["msg"] = message;
  const auto parsed = parse_fields(message);
  if (!parsed.event.empty()) {
    line["event"] = parsed.event;
  }
  for (const auto& [key, value] : parsed.fields) {
    // ts, level, msg and event are ours; such a field stays in msg only.
    if (!line.contains(key)) {
      line[key] = value;
    }
  }
  return json_text::write(line);
}

std::string format_line(LogFormat format, const LogRecord& record, bool colour) {
  switch (format) {
    case LogFormat::Journal:
      return format_journal(record);
    case LogFormat::Json:
      return format_json(record);
    case LogFormat::Auto:
    case LogFormat::Text:
      break;
  }
  return format_text(record, colour);
}

LogFields parse_fields(std::string_view message) {
  LogFields parsed;
  std::vector<std::string_view> opening;  // the bare words the message opens with
  bool opened = false;                    // true once another word or a field came
  std::size_t at = 0;
  while (at < message.size()) {
    if (message[at] == ' ') {
      ++at;
      continue;
    }
    const auto equals = key_end(message, at);
    if (equals == k_npos) {
      const auto end = word_end(message, at);
      opened = opened || !is_bare_word(message.substr(at, end - at));
      if (!opened) {
        opening.push_back(message.substr(at, end - at));
      }
      at = end;
      continue;
    }
    if (!opened) {
      parsed.event = join(opening);
      opened = true;
    }
    auto [value, end] = read_value(message, equals + 1);
    std::string key(message.substr(at, equals - at));
    const bool seen = std::any_of(parsed.fields.begin(), parsed.fields.end(),
                                  [&](const auto& field) { return field.first == key; });
    if (!seen) {
      parsed.fields.emplace_back(std::move(key), std::move(value));
    }
    at = end;
  }
  return parsed;
}

std::string quote_field(std::string_view value) {
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  return quoted + "\"";
}

Loggers make_loggers(LogFormat format, spdlog::level::level_enum level,
                     const spdlog::sink_ptr& sink, bool colour) {
  sink->set_formatter(std::make_unique<LineFormatter>(format, colour));
  Loggers loggers{std::make_shared<spdlog::logger>(std::string(k_main_logger), sink),
                  std::make_shared<spdlog::logger>(std::string(k_notice_logger), sink)};
  for (const auto& log : {loggers.main, loggers.notice}) {
    log->set_level(level);
    // A log someone follows (tail -f, journalctl -f) must not lag behind.
    log->flush_on(spdlog::level::info);
  }
  return loggers;
}

}  // namespace crosscheck::daemon
