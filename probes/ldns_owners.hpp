// Owners of what ldns allocates: packets, records, rdfs, and the strings and
// buffers it returns from malloc. One set for the prober (probes/dns_wire.cpp),
// the lab's fake DNS server and the DNS tests. Header only: whoever includes
// it links ldns itself.
#pragma once

#include <ldns/ldns.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace crosscheck::probes {

struct PktDeleter {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;

struct RrDeleter {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
using RrPtr = std::unique_ptr<ldns_rr, RrDeleter>;

struct RdfDeleter {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, RdfDeleter>;

// Strings and buffers that ldns allocates with malloc.
struct FreeDeleter {
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
  void operator()(void* memory) const { std::free(memory); }
};
using LdnsString = std::unique_ptr<char, FreeDeleter>;
using LdnsBuffer = std::unique_ptr<std::uint8_t, FreeDeleter>;

}  // namespace crosscheck::probes
