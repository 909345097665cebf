/* A plugin built for an ABI version the host does not have: refused, naming both. */
#include <attnscope/plugin.h>

static attnscope_status run(const attnscope_host_services* host, attnscope_job* job, void* data) {
  (void)host, (void)job, (void)data;
  return ATTNSCOPE_OK;
}

static const attnscope_job_spec jobs[] = {{"noop", "does nothing", NULL, 0, 0, run, NULL}};

static const attnscope_plugin_descriptor descriptor = {
    ATTNSCOPE_PLUGIN_ABI_VERSION + 41, 0, "future", "9.0.0", "built for a later ABI", jobs, 1};

ATTNSCOPE_PLUGIN_EXPORT const attnscope_plugin_descriptor* attnscope_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version;
  return &descriptor;
}
