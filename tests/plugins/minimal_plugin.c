/* The smallest useful plugin: one job that reads a parameter of every type and writes
 * them to a file, reports progress and logs; one that fails with a message. */
#include <stdio.h>
#include <string.h>

#include <attnscope/plugin.h>

static const attnscope_param_spec echo_params[] = {
    {"count", ATTNSCOPE_PARAM_INT, 0, "3", "an integer"},
    {"scale", ATTNSCOPE_PARAM_FLOAT, 0, "0.5", "a number"},
    {"label", ATTNSCOPE_PARAM_STRING, 0, "hello", "a text"},
    {"loud", ATTNSCOPE_PARAM_BOOL, 0, "false", "a switch"},
    {"lengths", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_INT, "256,1k", "a list of integers"},
    {"depths", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_FLOAT, "0,0.5,1", "a list of numbers"},
    {"name", ATTNSCOPE_PARAM_STRING, 0, NULL, "a required text"},
};

static attnscope_status echo(const attnscope_host_services* host, attnscope_job* job, void* data) {
  int64_t count = 0, length = 0;
  double scale = 0, depth = 0;
  int32_t loud = 0;
  const char *label = NULL, *name = NULL;
  uint32_t lengths = 0, depths = 0, i;
  char text[4096];
  size_t used = 0;
  (void)data;
  if (host->param_int(job, "count", &count) || host->param_float(job, "scale", &scale) ||
      host->param_string(job, "label", &label) || host->param_bool(job, "loud", &loud) ||
      host->param_string(job, "name", &name) || host->param_list_size(job, "lengths", &lengths) ||
      host->param_list_size(job, "depths", &depths)) {
    host->set_error(job, host->last_error(job));
    return ATTNSCOPE_ERROR;
  }
  used += (size_t)snprintf(text + used, sizeof text - used, "count=%lld scale=%g label=%s loud=%d name=%s lengths=",
                           (long long)count, scale, label, (int)loud, name);
  for (i = 0; i < lengths && !host->param_list_int(job, "lengths", i, &length); ++i)
    used += (size_t)snprintf(text + used, sizeof text - used, "%s%lld", i ? "," : "", (long long)length);
  used += (size_t)snprintf(text + used, sizeof text - used, " depths=");
  for (i = 0; i < depths && !host->param_list_float(job, "depths", i, &depth); ++i)
    used += (size_t)snprintf(text + used, sizeof text - used, "%s%g", i ? "," : "", depth);
  used += (size_t)snprintf(text + used, sizeof text - used, "\n");
  host->log_message(job, ATTNSCOPE_LOG_INFO, "echoing the parameters");
  host->report_progress(job, 0.5, "writing echo.txt");
  if (host->write_file(job, "echo.txt", text, used) != ATTNSCOPE_OK) {
    host->set_error(job, host->last_error(job));
    return ATTNSCOPE_ERROR;
  }
  host->report_progress(job, 1.0, "done");
  return ATTNSCOPE_OK;
}

static attnscope_status fail(const attnscope_host_services* host, attnscope_job* job, void* data) {
  (void)data;
  host->set_error(job, "failed on purpose");
  return ATTNSCOPE_ERROR;
}

static attnscope_status wrong_type(const attnscope_host_services* host, attnscope_job* job, void* data) {
  double count = 0;
  (void)data;
  /* count is an int: asking for a float is refused, and the job reports why. */
  if (host->param_float(job, "count", &count) != ATTNSCOPE_OK) {
    host->set_error(job, host->last_error(job));
    return ATTNSCOPE_INVALID_ARGUMENT;
  }
  return ATTNSCOPE_OK;
}

static const attnscope_param_spec count_param[] = {{"count", ATTNSCOPE_PARAM_INT, 0, "1", "an integer"}};

static const attnscope_job_spec jobs[] = {
    {"echo", "writes its parameters to echo.txt", echo_params, sizeof echo_params / sizeof echo_params[0], 0, echo, NULL},
    {"fail", "fails with a message", NULL, 0, 0, fail, NULL},
    {"wrong-type", "reads an int parameter as a float", count_param, 1, 0, wrong_type, NULL},
};

static const attnscope_plugin_descriptor descriptor = {
    ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "minimal", "1.0.0", "test plugin", jobs, sizeof jobs / sizeof jobs[0]};

ATTNSCOPE_PLUGIN_EXPORT const attnscope_plugin_descriptor* attnscope_plugin_entry(uint32_t host_abi_version) {
  return host_abi_version == ATTNSCOPE_PLUGIN_ABI_VERSION ? &descriptor : NULL;
}
