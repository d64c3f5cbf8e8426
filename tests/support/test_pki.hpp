// Test support: the certificates integration tests need, generated once per test process.
//   ca / server       a CA in a temp file (what --cacert gets) and a loopback cert it signed
//   expired           signed by the CA, validity entirely in the past
//   wrong_host        signed by the CA, for other.example only
//   self_signed       a self-signed loopback cert
//   untrusted         a loopback cert signed by another CA that nobody trusts
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <memory>

#include "emulator/certs.hpp"
#include "support/temp_file.hpp"

namespace gt::test {

struct TestPki {
  emulator::CertificatePem ca, server, expired, wrong_host, self_signed, untrusted;
  std::unique_ptr<TempFile> ca_file;
  std::unique_ptr<TempFile> empty_file;

  static const TestPki& get() {
    static const TestPki pki = [] {
      using namespace std::chrono_literals;
      TestPki p;
      auto need = [](auto r) {
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        return std::move(r).value();
      };
      p.ca = need(emulator::make_ca("graph-threads test CA"));
      p.server = need(emulator::issue_certificate(p.ca, emulator::loopback_spec()));
      auto old = emulator::loopback_spec();
      old.not_before = -std::chrono::hours(24 * 10);
      old.not_after = -std::chrono::hours(24);
      p.expired = need(emulator::issue_certificate(p.ca, old));
      emulator::CertSpec other;
      other.common_name = "other.example";
      other.dns_names = {"other.example"};
      p.wrong_host = need(emulator::issue_certificate(p.ca, other));
      p.self_signed = need(emulator::make_self_signed(emulator::loopback_spec()));
      const auto rogue = need(emulator::make_ca("rogue CA"));
      p.untrusted = need(emulator::issue_certificate(rogue, emulator::loopback_spec()));
      p.ca_file = std::make_unique<TempFile>(p.ca.cert, ".pem");
      p.empty_file = std::make_unique<TempFile>("not a certificate\n", ".pem");
      return p;
    }();
    return pki;
  }
};

}  // namespace gt::test
