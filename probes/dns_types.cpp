#include "probes/dns_types.hpp"

#include <array>
#include <utility>

namespace crosscheck::probes {
namespace {

// The one place a DnsStatus is spelled: metric labels and logs use these.
constexpr std::array<std::pair<DnsStatus, std::string_view>, 13> k_status_names{{
    {DnsStatus::Answer, "answer"},
    {DnsStatus::EmptyAnswer, "empty_answer"},
    {DnsStatus::NxDomain, "nxdomain"},
    {DnsStatus::ServFail, "servfail"},
    {DnsStatus::Refused, "refused"},
    {DnsStatus::OtherRcode, "other_rcode"},
    {DnsStatus::Timeout, "timeout"},
    {DnsStatus::Malformed, "malformed"},
    {DnsStatus::Truncated, "truncated"},
    {DnsStatus::TooFewAnswers, "too_few_answers"},
    {DnsStatus::UnexpectedAddress, "unexpected_address"},
    {DnsStatus::NetworkError, "network_error"},
    {DnsStatus::ObserverError, "observer_error"},
}};

}  // namespace

std::string_view to_string(DnsStatus status) {
  for (const auto& [item, name] : k_status_names) {
    if (item == status) {
      return name;
    }
  }
  return "invalid";
}

std::vector<config::IpAddress> DnsResult::addresses() const {
  std::vector<config::IpAddress> out;
  out.reserve(answers.size());
  for (const auto& record : answers) {
    if (record.address) {
      out.push_back(*record.address);
    }
  }
  return out;
}

}  // namespace crosscheck::probes
