#pragma once
// The services table the host hands to every job (attnscope/plugin.h): one per process,
// every entry filled.
#include "attnscope/plugin.h"

namespace attnscope::plugins {

const attnscope_host_services& host_services();

}  // namespace attnscope::plugins
