#include "probes/dns_types.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace crosscheck::probes {
namespace {

// The one place a DnsStatus is spelled: metric labels and logs use these.
constexpr std::array<std::pair<DnsStatus, std::string_view>, 14> k_status_names{{
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
    {DnsStatus::DnssecBogus, "dnssec_bogus"},
    {DnsStatus::ObserverError, "observer_error"},
}};

// Metric labels (snake_case) and the words of a detail, in enum order.
constexpr std::array<std::pair<IgnoredReply, std::string_view>, k_ignored_reply_kinds>
    k_ignored_names{{
        {IgnoredReply::WrongSource, "wrong_source"},
        {IgnoredReply::Short, "short"},
        {IgnoredReply::WrongId, "wrong_id"},
        {IgnoredReply::NotResponse, "not_response"},
        {IgnoredReply::WrongQuestion, "wrong_question"},
        {IgnoredReply::Malformed, "malformed"},
    }};

}  // namespace

std::string_view to_string(IgnoredReply kind) {
  for (const auto& [item, name] : k_ignored_names) {
    if (item == kind) {
      return name;
    }
  }
  return "invalid";
}

void IgnoredReplies::add(IgnoredReply kind, std::string_view why) {
  if (kind == IgnoredReply::Malformed && count(kind) == 0) {
    first_malformed = std::string(why);
  }
  ++counts.at(static_cast<std::size_t>(kind));
}

int IgnoredReplies::total() const {
  int sum = 0;
  for (const int count : counts) {
    sum += count;
  }
  return sum;
}

std::string IgnoredReplies::summary() const {
  const int all = total();
  if (all == 0) {
    return {};
  }
  std::string text = std::to_string(all) + (all == 1 ? " stray reply:" : " stray replies:");
  const char* separator = " ";
  for (const auto& [kind, name] : k_ignored_names) {
    if (count(kind) == 0) {
      continue;
    }
    std::string words(name);
    std::replace(words.begin(), words.end(), '_', ' ');
    text += separator + std::to_string(count(kind)) + " " + words;
    separator = ", ";
  }
  return text;
}

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
