/* A job of units on a real model, for the host's store tests: each unit captures a short
 * prompt and commits its heads' sink mass. It can fail at a unit (fail_at, or the
 * environment's ATTNSCOPE_TEST_FAIL_AT, which a resumed batch does not repeat) by
 * committing a value of a head the model does not have, which the store refuses
 * whole; sleep_ms slows each unit for interruption tests. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <attnscope/plugin.h>

static const attnscope_param_spec params[] = {
    {"count", ATTNSCOPE_PARAM_INT, 0, "4", "units to run"},
    {"fail_at", ATTNSCOPE_PARAM_INT, 0, "-1", "the unit that fails (-1: none)"},
    {"sleep_ms", ATTNSCOPE_PARAM_INT, 0, "0", "a pause in each unit"},
};

static attnscope_status failed(const attnscope_host_services* host, attnscope_job* job, attnscope_status status) {
  host->set_error(job, host->last_error(job));
  return status;
}

static attnscope_status units(const attnscope_host_services* host, attnscope_job* job, void* data) {
  int64_t count = 0, fail_at = -1, sleep_ms = 0, i;
  attnscope_model* model = NULL;
  attnscope_run* run = NULL;
  attnscope_prompt* prompt = NULL;
  attnscope_status status;
  const char* env = getenv("ATTNSCOPE_TEST_FAIL_AT");
  (void)data;
  if (host->param_int(job, "count", &count) || host->param_int(job, "fail_at", &fail_at) ||
      host->param_int(job, "sleep_ms", &sleep_ms))
    return failed(host, job, ATTNSCOPE_ERROR);
  if (env && *env) fail_at = atoll(env);
  if ((status = host->load_model(job, host->model_path(job, 0), &model)) != ATTNSCOPE_OK) return failed(host, job, status);
  if ((status = host->begin_run(job, model, &run)) != ATTNSCOPE_OK) return failed(host, job, status);
  if ((status = host->text_prompt(job, model, "The quick brown fox jumps over the lazy dog.", 1, &prompt)) != ATTNSCOPE_OK)
    return failed(host, job, status);
  for (i = 0; i < count; ++i) {
    int32_t done = 0;
    char parameters[64], message[96];
    attnscope_unit unit;
    if (host->is_cancelled(job)) {
      host->set_error(job, "cancelled");
      return ATTNSCOPE_CANCELLED;
    }
    if ((status = host->unit_done(job, run, i, &done)) != ATTNSCOPE_OK) return failed(host, job, status);
    snprintf(message, sizeof message, "unit %lld", (long long)i);
    if (done) {
      snprintf(message, sizeof message, "unit %lld was done before: skipped", (long long)i);
      host->log_message(job, ATTNSCOPE_LOG_INFO, message);
      continue;
    }
    host->report_progress(job, (double)i / (double)count, message);
    snprintf(parameters, sizeof parameters, "{\"i\": %lld}", (long long)i);
    memset(&unit, 0, sizeof unit);
    unit.ordinal = i;
    unit.task = "text";
    unit.parameters_json = parameters;
    unit.prompt = prompt;
    if (i == fail_at) {
      /* Layer 9999 does not exist: the store refuses the unit, and nothing of it stays. */
      attnscope_head_value bad[2] = {{0, 0, "sink_mass", 0.5, NULL}, {9999, 0, "sink_mass", 0.5, NULL}};
      unit.values = bad;
      unit.value_count = 2;
      if ((status = host->commit_unit(job, run, &unit)) == ATTNSCOPE_OK) {
        host->set_error(job, "the store took a value of layer 9999");
        return ATTNSCOPE_ERROR;
      }
      return failed(host, job, status);
    } else {
      attnscope_capture_request request = {0, 0, 0};
      attnscope_result* result = NULL;
      attnscope_result_view view;
      if ((status = host->capture(job, model, prompt, &request, &result)) != ATTNSCOPE_OK) return failed(host, job, status);
      if ((status = host->result_view(job, result, &view)) != ATTNSCOPE_OK) return failed(host, job, status);
      unit.values = view.values;
      unit.value_count = view.value_count;
      status = host->commit_unit(job, run, &unit);
      host->release_result(job, result);
      if (status != ATTNSCOPE_OK) return failed(host, job, status);
    }
    if (sleep_ms > 0) {
      struct timespec pause;
      pause.tv_sec = (time_t)(sleep_ms / 1000);
      pause.tv_nsec = (long)(sleep_ms % 1000) * 1000000L;
      nanosleep(&pause, NULL);
    }
  }
  host->release_prompt(job, prompt);
  host->report_progress(job, 1.0, "done");
  return ATTNSCOPE_OK;
}

static const attnscope_job_spec jobs[] = {
    {"units", "captures a short prompt per unit and stores each head's sink mass", params, 3, 0, units, NULL}};

static const attnscope_plugin_descriptor descriptor = {
    ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "units", "1.0.0", "test plugin: units in the store", jobs, 1};

ATTNSCOPE_PLUGIN_EXPORT const attnscope_plugin_descriptor* attnscope_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version;
  return &descriptor;
}
