// api.tokens and api.read_requires_token: what loads, every error (each at
// its file:line:column), and the reader the daemon serves tokens from.
#include "config/api_tokens.hpp"

#include "config_test_helpers.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace crosscheck::config;
using namespace crosscheck::config::test;
using Lines = std::vector<std::string>;

// "api:" with `body` indented under it, then the valid tail.
std::string api_yaml(const std::string& body) {
  return "api:\n" + body + std::string(k_valid_tail);
}

}  // namespace

TEST_CASE("named tokens load with their scopes beside token_file", "[config][tokens]") {
  TempDir dir;
  const std::string main = dir.write("main", "m41n\n").string();
  const std::string failover = dir.write("failover", "f41l0v3r\n").string();
  const std::string oncall = dir.write("oncall", "  0nc4ll  \n").string();
  const Config config = load_valid(api_yaml("  token_file: " + main +
                                            "\n"
                                            "  read_requires_token: true\n"
                                            "  tokens:\n"
                                            "    - name: failover-script\n"
                                            "      file: " +
                                            failover +
                                            "\n"
                                            "      scopes: [read, recheck]\n"
                                            "    - name: oncall\n"
                                            "      file: " +
                                            oncall +
                                            "\n"
                                            "      scopes: [read, ack, override, recheck, act]\n"));
  CHECK(config.api.read_requires_token);
  REQUIRE(config.api.tokens.size() == 2);
  CHECK(config.api.tokens[0].name == "failover-script");
  CHECK(config.api.tokens[0].scopes.to_string() == "read, recheck");
  CHECK(config.api.tokens[1].scopes == ScopeSet::all());

  const auto tokens = read_api_tokens(config.api);
  REQUIRE(tokens);
  REQUIRE(tokens->size() == 3);
  CHECK((*tokens)[0].name == "default");
  CHECK((*tokens)[0].secret == "m41n");
  CHECK((*tokens)[0].scopes == ScopeSet::all());
  CHECK((*tokens)[1].name == "failover-script");
  CHECK((*tokens)[1].secret == "f41l0v3r");
  CHECK((*tokens)[2].secret == "0nc4ll");
}

TEST_CASE("reads need no token unless read_requires_token says so", "[config][tokens]") {
  const Config config = load_valid(std::string(k_valid_tail));
  CHECK_FALSE(config.api.read_requires_token);
  CHECK(config.api.tokens.empty());
  const auto tokens = read_api_tokens(config.api);
  REQUIRE(tokens);
  CHECK(tokens->empty());
}

TEST_CASE("every api.tokens mistake is an error at its place", "[config][tokens]") {
  TempDir dir;
  const std::string a = dir.write("a", "aaaa\n").string();
  const std::string b = dir.write("b", "bbbb\n").string();
  const std::string empty = dir.write("empty", "\n").string();
  const std::string missing = (dir.path() / "absent").string();

  SECTION("an unknown scope names the valid ones") {
    CHECK(diagnostics_of(
              api_yaml("  tokens:\n    - {name: x, file: " + a + ", scopes: [read, write]}\n")) ==
          Lines{"test.yaml:3:" + std::to_string(40 + a.size()) +
                ": error: unknown scope 'write' for api.tokens[0].scopes[1]: expected one of "
                "read, recheck, ack, override, act"});
  }
  SECTION("scopes are required and not empty") {
    const auto lines =
        diagnostics_of(api_yaml("  tokens:\n    - {name: x, file: " + a +
                                ", scopes: []}\n    - {name: y, file: " + b + "}\n"));
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[0], Catch::Contains("api.tokens[0].scopes must list at least one of read, "
                                         "recheck, ack, override"));
    CHECK_THAT(lines[1], Catch::StartsWith("test.yaml:4:7: error:"));
    CHECK_THAT(lines[1], Catch::Contains("scopes"));
  }
  SECTION("names are distinct") {
    const auto lines = diagnostics_of(api_yaml("  tokens:\n    - {name: x, file: " + a +
                                               ", scopes: [read]}\n    - {name: x, file: " + b +
                                               ", scopes: [ack]}\n"));
    CHECK(lines == Lines{"test.yaml:4:14: error: duplicate API token name 'x' (first defined at "
                         "line 3)"});
  }
  SECTION("'default' is token_file's name") {
    CHECK(diagnostics_of(api_yaml("  token_file: " + a +
                                  "\n  tokens:\n    - {name: default, file: " + b +
                                  ", scopes: [read]}\n")) ==
          Lines{"test.yaml:4:14: error: api.tokens[0]: the name 'default' is api.token_file's "
                "token; choose another name"});
    // Without token_file the name is free.
    CHECK(diagnostics_of(
              api_yaml("  tokens:\n    - {name: default, file: " + b + ", scopes: [read]}\n"))
              .empty());
  }
  SECTION("two tokens with one secret cannot be told apart") {
    const std::string copy = dir.write("copy", "aaaa").string();
    CHECK(diagnostics_of(api_yaml("  token_file: " + a + "\n  tokens:\n    - {name: x, file: " +
                                  copy + ", scopes: [read]}\n")) ==
          Lines{"test.yaml:4:23: error: this token file holds the same token as the one at line "
                "2: each caller needs its own token (umask 077; openssl rand -hex 32 > FILE)"});
  }
  SECTION("an empty or unreadable file is an error, never a silent 401") {
    CHECK(diagnostics_of(api_yaml("  tokens:\n    - {name: x, file: " + empty +
                                  ", scopes: [read]}\n    - {name: y, file: " + missing +
                                  ", scopes: [ack]}\n")) ==
          Lines{"test.yaml:3:23: error: api.tokens[0] 'x' file '" + empty + "' is empty",
                "test.yaml:4:23: error: cannot read api.tokens[1] 'y' file '" + missing +
                    "': No such file or directory"});
  }
  SECTION("read_requires_token needs a token with scope read") {
    CHECK(diagnostics_of(api_yaml("  read_requires_token: true\n  tokens:\n    - {name: x, file: " +
                                  a + ", scopes: [ack]}\n")) ==
          Lines{"test.yaml:2:24: error: api.read_requires_token is true but no token has scope "
                "read (api.token_file, or api.tokens with scopes: [read, ...]): every read would "
                "be refused"});
    CHECK(
        diagnostics_of(api_yaml("  read_requires_token: true\n  token_file: " + a + "\n")).empty());
  }
  SECTION("read_requires_token is a boolean") {
    const auto lines = diagnostics_of(api_yaml("  read_requires_token: sometimes\n"));
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Catch::StartsWith("test.yaml:2:24: error:"));
  }
}

TEST_CASE("the daemon's token reader refuses what check-config refuses", "[config][tokens]") {
  TempDir dir;
  ApiConfig api;
  api.tokens.push_back(ApiTokenConfig{"x", dir.write("x", "same\n"), ScopeSet::all(), {}});
  api.tokens.push_back(ApiTokenConfig{"y", dir.write("y", "same"), ScopeSet::all(), {}});
  auto tokens = read_api_tokens(api);
  REQUIRE_FALSE(tokens);
  CHECK(tokens.error() ==
        "api.tokens[1] 'y' holds the same token as api.tokens[0] 'x': each caller needs its own "
        "token");
  api.tokens[1].file = dir.write("y", "");
  tokens = read_api_tokens(api);
  REQUIRE_FALSE(tokens);
  CHECK(tokens.error() == "api.tokens[1] 'y' file '" + (dir.path() / "y").string() + "' is empty");
}
