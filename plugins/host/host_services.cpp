#include "plugins/host/host_services.h"

#include "plugins/host/job_context.h"

namespace attnscope::plugins {

const attnscope_host_services& host_services() {
  static const attnscope_host_services table = [] {
    attnscope_host_services t{};
    t.abi_version = ATTNSCOPE_PLUGIN_ABI_VERSION;
    t.struct_size = sizeof t;
    add_basic_services(t);
    add_model_services(t);
    add_compute_services(t);
    add_store_services(t);
    add_export_services(t);
    return t;
  }();
  return table;
}

}  // namespace attnscope::plugins
