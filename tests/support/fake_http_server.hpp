// The simulated web server lives in lab/ (the offline demo uses it too);
// tests keep calling it testing::FakeHttpServer.
#pragma once

#include "lab/fake_http_server.hpp"

namespace crosscheck::testing {
using lab::FakeCertificate;
using lab::FakeHttpServer;
using lab::FakeHttpServerOptions;
using lab::FakeResponse;
using lab::FakeTlsOptions;
using lab::RecordedRequest;
}  // namespace crosscheck::testing
