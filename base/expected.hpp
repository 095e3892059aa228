// The one shape of an expected failure: a value, or an Error saying in one
// line what went wrong ("peer.key: not a regular file"). Used wherever bad
// input is normal (files, URLs, bodies, replies from the network); a
// programming error still throws or asserts. Config loading keeps its list of
// Diagnostics (config::LoadResult): one file can hold many errors at once.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace crosscheck {

struct Error {
  std::string message;
  // For a caller that must tell failures apart, a code the failing layer
  // defines (storage: the SQLite result code, "retry later" or "drop this
  // record"); 0 when the layer gives none.
  int code = 0;
};

// `return fail("cannot read " + path);` in a function returning Expected<T>.
inline Error fail(std::string message, int code = 0) {
  return Error{std::move(message), code};
}

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(Error error)
      : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The one-line message; only when !ok().
  const std::string& error() const { return failure().message; }
  // The whole error (message and code); only when !ok().
  const Error& failure() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// A step that returns nothing but can fail: `Status s = start(); if (!s) ...`.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error)
      : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return failure().message; }
  const Error& failure() const {
    assert(failed_);
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Expected<void>;

}  // namespace crosscheck
