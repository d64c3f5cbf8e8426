// emulator/certs: throwaway PKI for the local Graph stand-in and for tests.
//
// Generates, in memory, a CA and certificates it signs (or self-signed ones), as PEM text. Keys are
// ECDSA P-256 (fast to generate). Nothing here is meant to protect anything: these certificates
// exist so that clients can practise real verification against a loopback server.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "gt/error.hpp"

namespace gt::emulator {

struct CertificatePem {
  std::string cert;  // PEM "CERTIFICATE"
  std::string key;   // PEM "PRIVATE KEY" (PKCS#8)
};

struct CertSpec {
  std::string common_name = "localhost";
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1")
  // Validity relative to now; an expired certificate has both in the past.
  std::chrono::seconds not_before{-3600};
  std::chrono::seconds not_after{std::chrono::hours(24 * 30)};
};

// A CA certificate (basicConstraints CA:TRUE, keyCertSign) valid from an hour ago for `days`.
Result<CertificatePem> make_ca(const std::string& common_name, int days = 30);

// A server certificate for `spec`, signed by `ca` (serverAuth, digitalSignature).
Result<CertificatePem> issue_certificate(const CertificatePem& ca, const CertSpec& spec);

// A self-signed server certificate (not a CA) for `spec`.
Result<CertificatePem> make_self_signed(const CertSpec& spec);

// The usual loopback server spec: CN localhost, DNS localhost, IP 127.0.0.1 and ::1.
CertSpec loopback_spec();

}  // namespace gt::emulator
