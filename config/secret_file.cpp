#include "config/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace crosscheck::config {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

Expected<std::string> read_secret_file(std::string_view key, const std::filesystem::path& file,
                                       SecretKind kind) {
  const std::string name = std::string(key) + " '" + file.string() + "'";
  // Why O_NONBLOCK: opening a FIFO for reading waits for a writer, and
  // reload reads the token on the daemon's only I/O thread (probing, the
  // API and the watchdog would wait with it). A secret is a regular file.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return fail("cannot read " + name + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return fail("cannot read " + name + ": " + std::strerror(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return fail("cannot read " + name + ": " + std::strerror(EISDIR));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail("cannot read " + name + ": not a regular file (a FIFO, socket or device)");
  }
  // Why a bound: a secret is small; a path pointing at a log or a device
  // must not be read whole. Some slack for white space around the secret.
  std::string text(k_secret_file_limit + 256, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    const auto got = ::read(fd, &text[used], text.size() - used);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      const int error = errno;
      ::close(fd);
      return fail("cannot read " + name + ": " + std::strerror(error));
    }
    if (got == 0) {
      break;
    }
    used += static_cast<std::size_t>(got);
  }
  ::close(fd);
  const bool over = used == text.size();  // more was there than a secret needs
  text.resize(used);
  const auto first = std::find_if_not(text.begin(), text.end(), is_space);
  const auto last = std::find_if_not(text.rbegin(), text.rend(), is_space).base();
  std::string secret = first < last ? std::string(first, last) : std::string();
  if (secret.empty()) {
    return fail(name + " is empty");
  }
  if (over || secret.size() > k_secret_file_limit) {
    return fail(name + " holds more than " + std::to_string(k_secret_file_limit) + " bytes");
  }
  const bool fits =
      kind == SecretKind::BearerToken
          ? std::all_of(secret.begin(), secret.end(), [](char c) { return c > 0x20 && c < 0x7f; })
          : secret.find('\0') == std::string::npos;
  if (!fits) {
    return fail(name + (kind == SecretKind::BearerToken
                            ? " does not hold one bearer token (printable ASCII, no white space)"
                            : " holds a NUL byte"));
  }
  return secret;
}

}  // namespace crosscheck::config
