// The one error type of the kernel edge: what topo was doing, to which object, and the
// kernel's own words (strerror, libnl's text or netlink's extended ack).
#pragma once

#include <stdexcept>
#include <string>

namespace topo {

class KernelError : public std::runtime_error {
 public:
  KernelError(std::string step, std::string object, std::string reason, int error = 0)
      : std::runtime_error(step + " " + object + ": " + reason),
        step_(std::move(step)),
        object_(std::move(object)),
        reason_(std::move(reason)),
        error_(error) {}

  const std::string& step() const { return step_; }      // "reading links in"
  const std::string& object() const { return object_; }  // "namespace red"
  const std::string& reason() const { return reason_; }  // "Operation not permitted"
  int error() const { return error_; }                   // errno when known, else 0

 private:
  std::string step_, object_, reason_;
  int error_;
};

}  // namespace topo
