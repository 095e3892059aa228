#include "daemon/logging.hpp"

#include "cli/run_command.hpp"
#include "support/child_process.hpp"
#include "support/scoped_env.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ccd = crosscheck::daemon;  // unistd.h has a daemon()
namespace json = boost::json;
using ccd::LogFormat;
using ccd::LogRecord;
using crosscheck::testing::ScopedEnv;
using crosscheck::testing::TempDir;
using spdlog::level::level_enum;

namespace {

// 2026-11-25T13:40:02.118Z
const std::chrono::system_clock::time_point k_at{std::chrono::milliseconds(1'795'614'002'118)};
const std::string k_verdict = R"(verdict target=shop verdict=disputed held=healthy generation=3 )"
                              R"(reason="1 of 3 domains down (beta), said \"empty\"")";

LogRecord record(level_enum level, std::string_view message, bool notice = false) {
  return LogRecord{level, notice, k_at, message};
}

// Both loggers, at trace, writing `format` lines into a string.
struct Captured {
  explicit Captured(LogFormat format, bool colour = false)
      : loggers(ccd::make_loggers(format, spdlog::level::trace,
                                  std::make_shared<spdlog::sinks::ostream_sink_mt>(out), colour)) {}
  std::vector<std::string> lines() const {
    std::vector<std::string> all;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) {
      all.push_back(line);
    }
    return all;
  }
  std::ostringstream out;
  ccd::Loggers loggers;
};

json::object parse_object(const std::string& line) {
  INFO(line);
  const auto value = json::parse(line);
  REQUIRE(value.is_object());
  return value.as_object();
}

std::string text(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "<absent>";
}

}  // namespace

TEST_CASE("journal lines carry the syslog priority of every level, notices included", "[logging]") {
  const auto [level, notice, prefix] = GENERATE(table<level_enum, bool, std::string>({
      {spdlog::level::trace, false, "<7>"},
      {spdlog::level::debug, false, "<7>"},
      {spdlog::level::info, false, "<6>"},
      {spdlog::level::info, true, "<5>"},
      {spdlog::level::warn, false, "<4>"},
      {spdlog::level::warn, true, "<4>"},
      {spdlog::level::err, false, "<3>"},
      {spdlog::level::critical, false, "<2>"},
  }));
  CHECK(ccd::format_journal(record(level, "storage degraded", notice)) ==
        prefix + "storage degraded");
  Captured captured(LogFormat::Journal);
  (notice ? captured.loggers.notice : captured.loggers.main)->log(level, "stopped");
  CHECK(captured.out.str() == prefix + "stopped\n");
}

TEST_CASE("a journal line has no timestamp and keeps a multi-line message on one line",
          "[logging]") {
  Captured captured(LogFormat::Journal);
  captured.loggers.main->error("reload: bad.yaml:3:1: error: x\nbad.yaml:4:1: error: y\r\n");
  captured.loggers.notice->info(k_verdict);
  CHECK(captured.lines() ==
        std::vector<std::string>{R"(<3>reload: bad.yaml:3:1: error: x\nbad.yaml:4:1: error: y\r\n)",
                                 "<5>" + k_verdict});
}

TEST_CASE("json lines carry ts, level, msg, the event and the message's fields", "[logging]") {
  Captured captured(LogFormat::Json);
  captured.loggers.notice->info(k_verdict);
  captured.loggers.main->warn("escalation resolved kind=dispute target=web key=dispute/web/2");
  captured.loggers.main->info("crosscheck 0.1.0 on oracle-a: 4 targets");
  const auto lines = captured.lines();
  REQUIRE(lines.size() == 3);
  const auto verdict = parse_object(lines[0]);
  CHECK_THAT(text(verdict, "ts"), Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"));
  CHECK(text(verdict, "level") == "notice");
  CHECK(text(verdict, "msg") == k_verdict);
  CHECK(text(verdict, "event") == "verdict");
  CHECK(text(verdict, "target") == "shop");
  CHECK(text(verdict, "held") == "healthy");
  CHECK(text(verdict, "generation") == "3");
  CHECK(text(verdict, "reason") == R"(1 of 3 domains down (beta), said "empty")");
  const auto resolved = parse_object(lines[1]);
  CHECK(text(resolved, "level") == "warning");
  CHECK(text(resolved, "event") == "escalation resolved");
  CHECK(text(resolved, "key") == "dispute/web/2");
  const auto plain = parse_object(lines[2]);
  CHECK(plain.size() == 3);  // ts, level, msg: no fields in that message
  CHECK(text(plain, "level") == "info");
}

TEST_CASE("a json line has a UTC timestamp with milliseconds and stays valid JSON for any bytes",
          "[logging]") {
  const auto line = parse_object(
      ccd::format_json(record(spdlog::level::err, "dns: \"odd\"\tname \xff\xfe\x01 here")));
  CHECK(text(line, "ts") == "2026-11-25T13:40:02.118Z");
  CHECK(text(line, "level") == "error");
  CHECK(text(line, "msg") == "dns: \"odd\"\tname \xEF\xBF\xBD\xEF\xBF\xBD\x01 here");
  // A field never replaces what every line has.
  const auto forged = parse_object(
      ccd::format_json(record(spdlog::level::info, "check msg=forged level=critical ts=0")));
  CHECK(text(forged, "msg") == "check msg=forged level=critical ts=0");
  CHECK(text(forged, "level") == "info");
  CHECK(text(forged, "ts") == "2026-11-25T13:40:02.118Z");
}

TEST_CASE("fields are key=value words, the opening bare words before one are the event",
          "[logging]") {
  using Fields = std::vector<std::pair<std::string, std::string>>;
  const auto [message, event, fields] = GENERATE(table<std::string, std::string, Fields>({
      {"override target=web verdict=unhealthy by=alice until=2026-11-25T14:00:00Z",
       "override",
       {{"target", "web"},
        {"verdict", "unhealthy"},
        {"by", "alice"},
        {"until", "2026-11-25T14:00:00Z"}}},
      {"escalation acknowledged id=1 key=k by=",
       "escalation acknowledged",
       {{"id", "1"}, {"key", "k"}, {"by", ""}}},
      {R"(x reason="a \\ b \"c\" d" tail words)", "x", {{"reason", R"(a \ b "c" d)"}}},
      {R"(x reason="never closed)", "x", {{"reason", "never closed"}}},
      {"x a=1 a=2", "x", {{"a", "1"}}},
      {"reload: bad.yaml is invalid", "", {}},
      {"ready: first full evaluation done n=1", "", {{"n", "1"}}},
      {"3 targets=4", "", {{"targets", "4"}}},
      {"target=web", "", {{"target", "web"}}},
      {"", "", {}},
  }));
  INFO(message);
  const auto parsed = ccd::parse_fields(message);
  CHECK(parsed.event == event);
  CHECK(parsed.fields == fields);
}

TEST_CASE("quote_field writes a value that parse_fields reads back unchanged", "[logging]") {
  const std::string value = GENERATE(as<std::string>{}, "", "plain", R"(say "hi")",
                                     R"(back\slash\)", R"(\")", "two  spaces");
  const auto parsed = ccd::parse_fields("e v=" + ccd::quote_field(value) + " w=1");
  CHECK(parsed.fields ==
        std::vector<std::pair<std::string, std::string>>{{"v", value}, {"w", "1"}});
}

TEST_CASE("a newline in a message cannot start a text line of its own", "[logging]") {
  // An override reason once carried "\n<time> NOTICE reload applied ...".
  const auto line = ccd::format_text(
      record(spdlog::level::warn, "override reason=\"x\"\n2026 NOTICE forged\r"), false);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);
  CHECK_THAT(line, Catch::EndsWith(R"(override reason="x"\n2026 NOTICE forged\r)"));
}

TEST_CASE("text lines carry a local timestamp with milliseconds and the level word", "[logging]") {
  const auto notice = ccd::format_text(record(spdlog::level::info, k_verdict, true), false);
  CHECK_THAT(notice, Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.118[+-]\d{4} NOTICE )" +
                                    std::string("verdict target=shop .*")));
  CHECK(notice.find('\033') == std::string::npos);
  const auto info = ccd::format_text(record(spdlog::level::info, "stopped"), false);
  CHECK_THAT(info, Catch::EndsWith(" INFO   stopped"));
  const auto coloured = ccd::format_text(record(spdlog::level::info, "x", true), true);
  CHECK_THAT(coloured, Catch::EndsWith(" \033[1;36mNOTICE\033[0m x"));
  Captured captured(LogFormat::Text);
  captured.loggers.notice->info("verdict target=shop");
  captured.loggers.main->warn("storage degraded");
  const auto lines = captured.lines();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::EndsWith(" NOTICE verdict target=shop"));
  CHECK_THAT(lines[1], Catch::EndsWith(" WARN   storage degraded"));
}

TEST_CASE("auto is journal only when JOURNAL_STREAM names the stream we log to", "[logging]") {
  const ccd::FileId ours{2049, 1234};
  const auto [requested, stream, expected] =
      GENERATE(table<LogFormat, std::optional<std::string>, LogFormat>({
          {LogFormat::Auto, std::nullopt, LogFormat::Text},
          {LogFormat::Auto, "2049:1234", LogFormat::Journal},
          {LogFormat::Auto, "2049:1235", LogFormat::Text},
          {LogFormat::Auto, "2050:1234", LogFormat::Text},
          {LogFormat::Auto, "2049:1234x", LogFormat::Text},
          {LogFormat::Auto, "2049", LogFormat::Text},
          {LogFormat::Auto, ":1234", LogFormat::Text},
          {LogFormat::Auto, "+2049:1234", LogFormat::Text},
          {LogFormat::Auto, "", LogFormat::Text},
          {LogFormat::Json, "2049:1234", LogFormat::Json},
          {LogFormat::Json, std::nullopt, LogFormat::Json},
          {LogFormat::Text, "2049:1234", LogFormat::Text},
          {LogFormat::Journal, std::nullopt, LogFormat::Journal},
      }));
  INFO(stream.value_or("(unset)"));
  CHECK(ccd::resolve_format(requested, {stream, ours}) == expected);
  // Without fstat(2) facts nothing can match.
  CHECK(ccd::resolve_format(LogFormat::Auto, {stream, std::nullopt}) == LogFormat::Text);
}

TEST_CASE("read_stream_facts reads JOURNAL_STREAM and the descriptor's device and inode",
          "[logging]") {
  TempDir dir;
  const auto path = dir.path() / "stderr.log";
  std::ofstream(path) << "";
  struct stat status {};
  REQUIRE(stat(path.c_str(), &status) == 0);
  const int fd = open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  const auto named = std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
  {
    ScopedEnv env("JOURNAL_STREAM", named);
    CHECK(ccd::resolve_format(LogFormat::Auto, ccd::read_stream_facts(fd)) == LogFormat::Journal);
    CHECK(ccd::resolve_format(LogFormat::Auto, ccd::read_stream_facts(STDIN_FILENO)) ==
          LogFormat::Text);
  }
  {
    ScopedEnv env("JOURNAL_STREAM", std::nullopt);
    CHECK(ccd::resolve_format(LogFormat::Auto, ccd::read_stream_facts(fd)) == LogFormat::Text);
  }
  close(fd);
}

TEST_CASE("log format names read back as written and nothing else is one", "[logging]") {
  for (const auto format :
       {LogFormat::Auto, LogFormat::Text, LogFormat::Journal, LogFormat::Json}) {
    CHECK(ccd::parse_log_format(ccd::to_string(format)) == format);
  }
  CHECK_FALSE(ccd::parse_log_format("JSON"));
  CHECK_FALSE(ccd::parse_log_format("syslog"));
  CHECK_FALSE(ccd::parse_log_format(""));
}

TEST_CASE("crosscheck run refuses an unknown --log-format with exit 2", "[logging]") {
  std::ostringstream out;
  std::ostringstream err;
  CHECK(crosscheck::cli::run_service_command({"--log-format", "xml"}, out, err) == 2);
  CHECK(err.str() == "crosscheck run: --log-format 'xml' is not auto, text, journal or json\n");
}

TEST_CASE("crosscheck run logs config errors in the chosen format before refusing to start",
          "[logging]") {
  std::ostringstream out;
  std::ostringstream err;
  CHECK(crosscheck::cli::run_service_command(
            {"--config", "/nonexistent/crosscheck.yaml", "--log-format", "json"}, out, err) == 2);
  std::istringstream lines(err.str());
  std::vector<std::string> levels;
  for (std::string line; std::getline(lines, line);) {
    levels.push_back(text(parse_object(line), "level"));
  }
  CHECK(levels == std::vector<std::string>{"error", "critical"});
  CHECK_THAT(err.str(), Catch::Contains(R"("msg":"/nonexistent/crosscheck.yaml has errors; )"
                                        R"(not starting")"));
}
