/* sink-profile: the example plugin of docs/plugins.md. Its job "lengths" profiles each
 * model on a passkey prompt at every length of a list, stores one unit per length (so an
 * interrupted batch resumes at the first length not done) and writes sink_mass.csv: each
 * head's sink mass per model and length, read back from the store, and for each model a
 * heatmap, sink_mass_<model>.png: a layers x heads panel per length, white for mass 1.
 *
 * Written in C99 against attnscope/plugin.h alone, as a plugin from outside the project
 * would be. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <attnscope/plugin.h>

/* A growing text buffer (the CSV). */
typedef struct text_buffer {
  char* data;
  size_t size;
  size_t capacity;
} text_buffer;

static int append(text_buffer* b, const char* text) {
  const size_t n = strlen(text);
  if (b->size + n + 1 > b->capacity) {
    size_t capacity = b->capacity ? b->capacity * 2 : 4096;
    char* grown;
    while (capacity < b->size + n + 1) capacity *= 2;
    grown = (char*)realloc(b->data, capacity);
    if (!grown) return 0;
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->size, text, n + 1);
  b->size += n;
  return 1;
}

/* One model's heatmap: a panel of layers x heads cells per length, grey = sink mass. */
#define CELL 12
#define GAP 6
typedef struct heatmap {
  uint8_t* pixels;
  uint32_t width, height;
  int32_t heads;
} heatmap;

static int heatmap_open(heatmap* h, const attnscope_model_info* info, uint32_t lengths) {
  h->heads = info->heads;
  h->width = lengths * (uint32_t)(info->heads * CELL + GAP) - GAP;
  h->height = (uint32_t)info->layers * CELL;
  h->pixels = (uint8_t*)calloc((size_t)h->width * h->height, 1);
  return h->pixels != NULL;
}

static void heatmap_cell(heatmap* h, uint32_t panel, int32_t layer, int32_t head, double value) {
  const uint8_t grey = (uint8_t)(isnan(value) ? 0 : 255.0 * (value < 0 ? 0 : value > 1 ? 1 : value) + 0.5);
  const uint32_t x0 = panel * (uint32_t)(h->heads * CELL + GAP) + (uint32_t)head * CELL;
  uint32_t x, y;
  for (y = (uint32_t)layer * CELL; y < (uint32_t)(layer + 1) * CELL; ++y)
    for (x = x0; x < x0 + CELL; ++x) h->pixels[(size_t)y * h->width + x] = grey;
}

static const attnscope_param_spec params[] = {
    {"lengths", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_INT, "256,512", "prompt lengths in tokens"},
    {"depth", ATTNSCOPE_PARAM_FLOAT, 0, "0.5", "where the pass key sits, 0 (start) to 1 (end)"},
    {"seed", ATTNSCOPE_PARAM_INT, 0, "1", "the pass key and the haystack's start"},
};

/* The failing service's message becomes the job's. */
static attnscope_status fail(const attnscope_host_services* host, attnscope_job* job, attnscope_status status) {
  host->set_error(job, host->last_error(job));
  return status;
}

/* Profiles `model` at one length (sink mass only) and commits it as unit `ordinal`. */
static attnscope_status profile_length(const attnscope_host_services* host, attnscope_job* job, attnscope_model* model,
                                       attnscope_run* run, int64_t ordinal, int64_t length, double depth, int64_t seed) {
  attnscope_profile_request request;
  attnscope_result* result = NULL;
  attnscope_result_view view;
  attnscope_unit unit;
  attnscope_status status;
  char parameters[160];
  memset(&request, 0, sizeof request);
  request.tasks = "passkey";
  request.lengths = &length;
  request.length_count = 1;
  request.depths = &depth;
  request.depth_count = 1;
  request.metrics = "sink_mass";
  request.seed = (uint64_t)seed;
  if ((status = host->profile(job, model, &request, &result)) != ATTNSCOPE_OK) return status;
  if ((status = host->result_view(job, result, &view)) != ATTNSCOPE_OK) {
    host->release_result(job, result);
    return status;
  }
  snprintf(parameters, sizeof parameters, "{\"length\": %lld, \"depth\": %.17g, \"seed\": %lld}", (long long)length, depth,
           (long long)seed);
  memset(&unit, 0, sizeof unit);
  unit.ordinal = ordinal;
  unit.task = "passkey";
  unit.parameters_json = parameters;
  unit.outcome_json = view.summary_json; /* the profile's units and notes */
  unit.values = view.values;
  unit.value_count = view.value_count;
  status = host->commit_unit(job, run, &unit);
  host->release_result(job, result);
  return status;
}

/* Appends the stored sink mass of unit `ordinal` to the CSV and to panel `ordinal` of the heatmap. */
static attnscope_status append_rows(const attnscope_host_services* host, attnscope_job* job, attnscope_run* run,
                                    const char* model_path, int64_t ordinal, int64_t length, text_buffer* csv,
                                    heatmap* map) {
  attnscope_result* stored = NULL;
  attnscope_result_view view;
  attnscope_status status;
  uint64_t i;
  if ((status = host->read_values(job, host->run_id(job, run), ordinal, &stored)) != ATTNSCOPE_OK) return status;
  if ((status = host->result_view(job, stored, &view)) == ATTNSCOPE_OK) {
    for (i = 0; i < view.value_count; ++i) {
      char row[1200];
      const attnscope_head_value* v = &view.values[i];
      if (strcmp(v->metric, "sink_mass") != 0) continue;
      heatmap_cell(map, (uint32_t)ordinal, v->layer, v->head, v->value);
      if (isnan(v->value))
        snprintf(row, sizeof row, "%s,%d,%d,%lld,\n", model_path, (int)v->layer, (int)v->head, (long long)length);
      else
        snprintf(row, sizeof row, "%s,%d,%d,%lld,%.6f\n", model_path, (int)v->layer, (int)v->head, (long long)length,
                 v->value);
      if (!append(csv, row)) {
        status = ATTNSCOPE_OUT_OF_MEMORY;
        host->set_error(job, "out of memory for the CSV");
        break;
      }
    }
  }
  host->release_result(job, stored);
  return status;
}

static attnscope_status run_lengths(const attnscope_host_services* host, attnscope_job* job, void* job_data) {
  uint32_t length_count = 0, m, i;
  double depth = 0;
  int64_t seed = 0;
  attnscope_status status = ATTNSCOPE_OK;
  text_buffer csv = {NULL, 0, 0};
  const uint32_t models = host->model_count(job);
  (void)job_data;
  if (host->param_list_size(job, "lengths", &length_count) || host->param_float(job, "depth", &depth) ||
      host->param_int(job, "seed", &seed))
    return fail(host, job, ATTNSCOPE_ERROR);
  if (length_count == 0) {
    host->set_error(job, "lengths is empty: give at least one prompt length");
    return ATTNSCOPE_INVALID_ARGUMENT;
  }
  if (!append(&csv, "model,layer,head,length,sink_mass\n")) return ATTNSCOPE_OUT_OF_MEMORY;
  for (m = 0; m < models && status == ATTNSCOPE_OK; ++m) {
    attnscope_model* model = NULL;
    attnscope_model_info info;
    attnscope_run* run = NULL;
    heatmap map = {NULL, 0, 0, 0};
    char png_name[64];
    const char* path = host->model_path(job, m);
    if ((status = host->load_model(job, path, &model)) != ATTNSCOPE_OK) break;
    if ((status = host->model_info(job, model, &info)) != ATTNSCOPE_OK) break;
    if ((status = host->begin_run(job, model, &run)) != ATTNSCOPE_OK) break;
    if (!heatmap_open(&map, &info, length_count)) {
      host->set_error(job, "out of memory for the heatmap");
      status = ATTNSCOPE_OUT_OF_MEMORY;
      break;
    }
    for (i = 0; i < length_count && status == ATTNSCOPE_OK; ++i) {
      int64_t length = 0;
      int32_t done = 0;
      char message[160];
      if (host->is_cancelled(job)) {
        status = ATTNSCOPE_CANCELLED;
        host->set_error(job, "cancelled");
        break;
      }
      if ((status = host->param_list_int(job, "lengths", i, &length)) != ATTNSCOPE_OK) break;
      if ((status = host->unit_done(job, run, (int64_t)i, &done)) != ATTNSCOPE_OK) break;
      snprintf(message, sizeof message, "model %u of %u, %lld tokens%s", m + 1, models, (long long)length,
               done ? " (done before)" : "");
      host->report_progress(job, ((double)m * length_count + i) / ((double)models * length_count), message);
      if (!done && (status = profile_length(host, job, model, run, (int64_t)i, length, depth, seed)) != ATTNSCOPE_OK) break;
      status = append_rows(host, job, run, path, (int64_t)i, length, &csv, &map);
    }
    snprintf(png_name, sizeof png_name, "sink_mass_%u.png", m);
    /* A host of this ABI version that predates write_png has a shorter table. */
    if (status == ATTNSCOPE_OK && ATTNSCOPE_HAS_SERVICE(host, write_png))
      status = host->write_png(job, png_name, map.width, map.height, 1, map.pixels);
    free(map.pixels);
    host->release_model(job, model);
  }
  if (status == ATTNSCOPE_OK) {
    status = host->write_file(job, "sink_mass.csv", csv.data, csv.size);
    host->report_progress(job, 1.0, "wrote sink_mass.csv");
  }
  if (status != ATTNSCOPE_OK && status != ATTNSCOPE_CANCELLED && status != ATTNSCOPE_OUT_OF_MEMORY)
    host->set_error(job, host->last_error(job));
  free(csv.data);
  return status;
}

static const attnscope_job_spec jobs[] = {
    {"lengths", "each head's sink mass on a passkey prompt at several lengths (sink_mass.csv)", params,
     sizeof params / sizeof params[0], 0, run_lengths, NULL},
};

static const attnscope_plugin_descriptor descriptor = {
    ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "sink-profile", "1.0.0", "example plugin: sink mass against prompt length",
    jobs, sizeof jobs / sizeof jobs[0]};

ATTNSCOPE_PLUGIN_EXPORT const attnscope_plugin_descriptor* attnscope_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version; /* the host checks descriptor.abi_version against its own */
  return &descriptor;
}
