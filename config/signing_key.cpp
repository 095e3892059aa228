#include "config/signing_key.hpp"

#include "config/openssl_handles.hpp"
#include "config/secret_file.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <utility>

namespace crosscheck::config {
namespace {

using detail::BioPtr;
using detail::no_passphrase;
using Pkey = detail::KeyPtr;

enum class Part : bool { Private, Public };

// The PEM in `file` as an Ed25519 key of the given part, or why not.
Expected<Pkey> read_pem(std::string_view setting, const std::filesystem::path& file, Part part) {
  const std::string name = std::string(setting) + " '" + file.string() + "'";
  auto text = read_secret_file(setting, file, SecretKind::Key);
  if (!text) {
    return fail(text.error());
  }
  const BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  if (!bio) {
    return fail("cannot read " + name + ": out of memory");
  }
  Pkey key(part == Part::Private
               ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)
               : PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  OPENSSL_cleanse(text->data(), text->size());  // the key's PEM is not left in freed memory
  const std::string wanted = part == Part::Private
                                 ? "an Ed25519 private key (openssl genpkey -algorithm ed25519)"
                                 : "an Ed25519 public key (openssl pkey -in KEY -pubout)";
  if (!key) {
    return fail(name + " does not hold " + wanted + ": not a PEM " +
                (part == Part::Private ? "private key (garbled, or encrypted)" : "public key"));
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return fail(name + " does not hold " + wanted + ": it is a " +
                (type != nullptr ? std::string(type) : std::string("other")) + " key");
  }
  return {std::move(key)};
}

bool raw_key(const EVP_PKEY* key, Part part, Ed25519Key& out) {
  std::size_t size = out.size();
  const int ok = part == Part::Private ? EVP_PKEY_get_raw_private_key(key, out.data(), &size)
                                       : EVP_PKEY_get_raw_public_key(key, out.data(), &size);
  return ok == 1 && size == out.size();
}

}  // namespace

SigningKey::~SigningKey() {
  OPENSSL_cleanse(private_key.data(), private_key.size());
}

Expected<SigningKey> read_signing_key(std::string_view setting, const std::filesystem::path& file) {
  auto key = read_pem(setting, file, Part::Private);
  if (!key) {
    return fail(key.error());
  }
  SigningKey out;
  if (!raw_key(key->get(), Part::Private, out.private_key) ||
      !raw_key(key->get(), Part::Public, out.public_key)) {
    return fail(std::string(setting) + " '" + file.string() + "': cannot read the raw key");
  }
  return out;
}

Expected<Ed25519Key> read_public_key(std::string_view setting, const std::filesystem::path& file) {
  auto key = read_pem(setting, file, Part::Public);
  if (!key) {
    return fail(key.error());
  }
  Ed25519Key out{};
  if (!raw_key(key->get(), Part::Public, out)) {
    return fail(std::string(setting) + " '" + file.string() + "': cannot read the raw key");
  }
  return out;
}

}  // namespace crosscheck::config
