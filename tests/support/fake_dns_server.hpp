// The simulated resolver lives in lab/ (the offline demo uses it too); tests
// keep calling it testing::FakeDnsServer.
#pragma once

#include "lab/fake_dns_server.hpp"

namespace crosscheck::testing {
using lab::FakeDnsBehaviour;
using lab::FakeDnsQuery;
using lab::FakeDnsServer;
using lab::FakeRecord;
}  // namespace crosscheck::testing
