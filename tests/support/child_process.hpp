// Starts a real program for a system test (dnsmasq, nginx, ...) and stops it
// when the test ends: SIGTERM, then SIGKILL after a bounded wait. Output goes
// to a log file the test can show on failure.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace crosscheck::testing {

class ChildProcess {
 public:
  // Spawns argv[0] (looked up in PATH) with its output sent to `log`.
  ChildProcess(std::vector<std::string> argv, std::filesystem::path log);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&&) = delete;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();

  bool running();  // false once it exited (reaps it)
  int stop();      // SIGTERM, wait up to 3 s, then SIGKILL; returns exit status
  // Waits up to `limit` for the program to exit by itself, then stop()s it;
  // returns the wait status (WIFEXITED/WEXITSTATUS).
  int wait(std::chrono::milliseconds limit);
  std::string log() const;  // what it printed so far
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path log_;
};

// A directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A file with `content` named `name` in a fresh TempDir, removed with it.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& content);
  const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_;
};

// A port that was free on `address` a moment ago (bound over UDP and TCP,
// then released), for a program that must be told its port before it starts
// (a peer's URL in another node's config); where the program can report
// what it bound, port 0 is better. Drawn from outside the kernel's
// ephemeral range (ip_local_port_range) where 1,000 ports lie outside it: a
// port from inside can be taken, before the program binds it, as the local
// port of any outgoing connection on the machine (other tests run beside
// this one). Two tests may still draw the same port: nothing reserves it.
unsigned short free_port(const std::string& address);

}  // namespace crosscheck::testing
