// emulator/control: the emulator's own API, for scripts and tests that rehearse failures or sign
// in without a browser. Served under /_emulator/ (loopback only, like everything the emulator
// serves; no authentication). JSON in, JSON or 204 out; errors in Graph's envelope.
//
//   POST   /_emulator/faults              {"fault":"429"}                 the next request fails so
//                                         {"fault":"drop-after","request":7}  request #7 (counted
//                                                                         since start, as
//                                                                         --fault-at)
//                                         {"fault":"slow","slowMs":500}
//   DELETE /_emulator/faults              forget scripted, queued and random faults
//   GET    /_emulator/devices             device codes: [{userCode, clientId, scope, state, user,
//                                         expiresAt}]
//   POST   /_emulator/devices/{code}/approve   {"username":"ada@contoso.example"} (optional: the
//                                         demo user)
//   POST   /_emulator/devices/{code}/deny
//   POST   /_emulator/users/{username}/revoke  revoke the user's refresh tokens
#pragma once

#include <string>

#include "emulator/faults.hpp"
#include "emulator/handler.hpp"
#include "emulator/identity_service.hpp"

namespace gt::emulator {

class ControlService final : public Handler {
 public:
  // `identity` may be nullptr (the device and user endpoints then answer 404). Both must outlive
  // this object.
  ControlService(FaultPlan& faults, IdentityService* identity, std::string demo_user);
  HttpResponse handle(const HttpRequest& request) override;

 private:
  HttpResponse faults_endpoint(const HttpRequest& request);
  HttpResponse devices_endpoint(const HttpRequest& request, std::string_view rest);
  HttpResponse users_endpoint(const HttpRequest& request, std::string_view rest);

  FaultPlan& faults_;
  IdentityService* identity_;
  std::string demo_user_;
};

}  // namespace gt::emulator
