// gt/uuid: random (version 4) UUIDs for client-request-id.
#pragma once

#include <string>

namespace gt {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower case, from a per-process CSPRNG-seeded generator.
std::string new_uuid();

// True for the 8-4-4-4-12 hex form (any version), case-insensitive.
bool looks_like_guid(const std::string& s);

}  // namespace gt
