// ApiActions for API server tests that only read: no call ever completes.
#pragma once

#include "api/actions.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace crosscheck::testing {

class NoActions final : public api::ApiActions {
 public:
  void recheck(const api::Caller&, const std::string&, std::chrono::milliseconds,
               api::ActionCallback) override {}
  void acknowledge(const api::Caller&, std::int64_t, const std::string&,
                   api::ActionCallback) override {}
  void set_override(const api::Caller&, const std::string&, const consensus::Override&,
                    api::ActionCallback) override {}
  void clear_override(const api::Caller&, const std::string&, api::ActionCallback) override {}
  void set_maintenance(const api::Caller&, const std::string&, const consensus::AdHocMaintenance&,
                       api::ActionCallback) override {}
  void clear_maintenance(const api::Caller&, const std::string&, api::ActionCallback) override {}
  void gate_and_record(const api::Caller&, const api::GateAsk&, consensus::ActionRequest,
                       api::ActionCallback) override {}
  void record_action(const api::Caller&, consensus::ActionRequest, api::ActionCallback) override {}
  void ack_action(const api::Caller&, const std::string&, consensus::ActionAck,
                  api::ActionCallback) override {}
};

}  // namespace crosscheck::testing
