#include "probes/resolv_conf.hpp"

#include <fstream>
#include <sstream>

namespace crosscheck::probes {

ResolvConf parse_resolv_conf(std::string_view text) {
  ResolvConf out;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (const auto comment = line.find_first_of("#;"); comment != std::string::npos) {
      line.resize(comment);
    }
    std::istringstream words(line);
    std::string keyword;
    std::string value;
    if (!(words >> keyword) || keyword != "nameserver") {
      continue;
    }
    if (!(words >> value)) {
      out.problems.push_back("line " + std::to_string(number) + ": nameserver without an address");
      continue;
    }
    const auto address = config::IpAddress::parse(value);
    if (!address) {
      out.problems.push_back("line " + std::to_string(number) + ": unusable nameserver '" + value +
                             "'");
      continue;
    }
    out.nameservers.push_back(config::Endpoint{*address, 53});
  }
  return out;
}

SystemResolvers::SystemResolvers(std::filesystem::path file) : file_(std::move(file)) {}

const std::vector<config::Endpoint>& SystemResolvers::current() {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(file_, ec);
  const auto size = ec ? 0 : std::filesystem::file_size(file_, ec);
  if (ec) {
    parsed_ = ResolvConf{};
    parsed_.problems.push_back("cannot read " + file_.string() + ": " + ec.message());
    loaded_ = false;
    return parsed_.nameservers;
  }
  if (!loaded_ || mtime != mtime_ || size != size_) {
    std::ifstream in(file_);
    std::stringstream text;
    text << in.rdbuf();
    parsed_ = parse_resolv_conf(text.str());
    mtime_ = mtime;
    size_ = size;
    loaded_ = true;
  }
  return parsed_.nameservers;
}

}  // namespace crosscheck::probes

namespace crosscheck::probes {

VantageEndpoint settle_vantage(const config::VantageConfig& vantage, SystemResolvers& system,
                               std::shared_ptr<const DotTransport> tls) {
  VantageEndpoint out;
  out.name = vantage.name;
  out.domain = vantage.domain;
  out.source = vantage.source;
  if (vantage.tls) {
    out.tls = tls ? std::move(tls) : make_dot_transport(*vantage.tls);
  }
  if (vantage.resolver) {
    out.resolver = vantage.resolver;
  } else if (const auto& nameservers = system.current(); !nameservers.empty()) {
    out.resolver = nameservers.front();
  }
  return out;
}

}  // namespace crosscheck::probes
