/* AttnScope plugin ABI (docs/plugins.md is the author's guide).
 *
 * A plugin is a shared library that exports one C function, attnscope_plugin_entry. The
 * host (attnscope-cli, the desktop app) loads it, calls the entry with its ABI version and
 * gets back a descriptor: the plugin's name and version, the ABI version it was built
 * for, and its jobs, each with typed parameters. Running a job calls the job's `run`
 * with a table of host services (attnscope_host_services): models, task prompts,
 * capture, the profiling job, mask evaluation, the store, output files, progress,
 * cancellation and logging. Only plain C crosses the boundary: fixed-width integers,
 * doubles, UTF-8 `const char*` strings, structs of those, function pointers and opaque
 * handles. The header compiles as C99 and as C++.
 *
 * Versioning: ATTNSCOPE_PLUGIN_ABI_VERSION changes with any incompatible change (a
 * struct's layout, a function's signature or meaning); the host refuses a plugin built
 * for another version and names both. Within one version the services table only grows
 * at its end; `struct_size` says how much of it a host provides, so a plugin built
 * against a newer header can check for a service before calling it
 * (ATTNSCOPE_HAS_SERVICE).
 *
 * Ownership and lifetime (every pointer):
 *  - The descriptor the entry returns, and everything it points to (strings, the job and
 *    parameter arrays), belong to the plugin and must stay valid and unchanged until the
 *    library is unloaded. Static data is the usual way.
 *  - Strings and structs the plugin passes to a service are read during the call only;
 *    the host copies what it keeps.
 *  - attnscope_job is valid only during the job's `run` call. The services table too.
 *  - Handles (attnscope_model, attnscope_prompt, attnscope_result, attnscope_run) are
 *    created by services and belong to the job: release them when done with the
 *    release_* services; whatever is still open when `run` returns is released by the host.
 *    A handle is only valid with the job that created it.
 *  - Strings and arrays the host returns (`const char*`, attnscope_result_view,
 *    attnscope_model_info, attnscope_prompt_info) belong to the host: they stay valid as
 *    long as the handle they were read from (parameters and folders: as long as the job),
 *    except last_error's text, valid until the next service call of that job.
 *
 * Errors: every service that can fail returns an attnscope_status; on anything but
 * ATTNSCOPE_OK, last_error(job) says what went wrong. A job ends by returning a status
 * from `run`: ATTNSCOPE_OK completes it; anything else fails it (set_error gives the
 * message; ATTNSCOPE_CANCELLED after is_cancelled marks it interrupted). The host catches
 * every failure inside its services, so a plugin's error fails its job, never the host.
 * A plugin must not let C++ exceptions or longjmp cross into the host.
 *
 * Threads: a job's services may be called from one thread at a time (the thread that
 * runs the job, or one the plugin synchronises with it); is_cancelled from any thread.
 */
#ifndef ATTNSCOPE_PLUGIN_H
#define ATTNSCOPE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTNSCOPE_PLUGIN_ABI_VERSION 1u
/* The one symbol the host looks up in a plugin. */
#define ATTNSCOPE_PLUGIN_ENTRY_NAME "attnscope_plugin_entry"

#if defined(_WIN32)
#define ATTNSCOPE_PLUGIN_EXPORT __declspec(dllexport)
#else
#define ATTNSCOPE_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Status codes ---------------------------------------------------------------- */

typedef int32_t attnscope_status;
#define ATTNSCOPE_OK 0
#define ATTNSCOPE_ERROR 1             /* the call or job failed; last_error / set_error say why */
#define ATTNSCOPE_CANCELLED 2         /* the user cancelled the job */
#define ATTNSCOPE_INVALID_ARGUMENT 3  /* a NULL or foreign handle, a bad value, a parameter of another type */
#define ATTNSCOPE_NOT_FOUND 4         /* no such parameter, unit or run */
#define ATTNSCOPE_OUT_OF_MEMORY 5     /* host or device memory ran out (the message has the estimate) */

/* ---- Parameters ------------------------------------------------------------------ */

/* Parameter types. Values are given as text ("k=v" on the command line, a form in the
 * app) and parsed by the host against the declared type:
 *   INT    decimal integer, optionally with a k suffix (x1024): "512", "4k"
 *   FLOAT  decimal number: "0.5", "1e-3"
 *   STRING any UTF-8 text (may be empty)
 *   BOOL   true/false, yes/no, on/off, 1/0
 *   LIST   comma-separated elements of element_type (INT, FLOAT or STRING); "" is empty */
#define ATTNSCOPE_PARAM_INT 1
#define ATTNSCOPE_PARAM_FLOAT 2
#define ATTNSCOPE_PARAM_STRING 3
#define ATTNSCOPE_PARAM_BOOL 4
#define ATTNSCOPE_PARAM_LIST 5

typedef struct attnscope_param_spec {
  const char* name;          /* [a-z0-9_-], unique within the job */
  int32_t type;              /* ATTNSCOPE_PARAM_* */
  int32_t element_type;      /* LIST: ATTNSCOPE_PARAM_INT, _FLOAT or _STRING; otherwise 0 */
  const char* default_value; /* as text, parsed like a given value; NULL: the parameter is required */
  const char* help;          /* one line for `plugins list` and the app's form */
} attnscope_param_spec;

/* ---- The plugin's descriptor ----------------------------------------------------- */

typedef struct attnscope_host_services attnscope_host_services;
typedef struct attnscope_job attnscope_job; /* one running job (opaque) */

/* Runs a job to its end. `job_data` is attnscope_job_spec.job_data. */
typedef attnscope_status (*attnscope_job_run_fn)(const attnscope_host_services* host, attnscope_job* job,
                                                 void* job_data);

typedef struct attnscope_job_spec {
  const char* name;    /* [a-z0-9_-], unique within the plugin: the JOB of PLUGIN.JOB */
  const char* summary; /* one line */
  const attnscope_param_spec* params;
  uint32_t param_count;
  uint32_t flags;      /* reserved: 0 */
  attnscope_job_run_fn run;
  void* job_data;
} attnscope_job_spec;

typedef struct attnscope_plugin_descriptor {
  uint32_t abi_version; /* ATTNSCOPE_PLUGIN_ABI_VERSION as the plugin was built */
  uint32_t reserved;    /* 0 */
  const char* name;     /* [a-z0-9_-]: the PLUGIN of PLUGIN.JOB */
  const char* version;  /* the plugin's own version, e.g. "1.0.0" */
  const char* summary;  /* one line */
  const attnscope_job_spec* jobs;
  uint32_t job_count;   /* at least 1 */
} attnscope_plugin_descriptor;

/* The entry point: given the host's ABI version, returns the plugin's descriptor (with
 * the version the plugin was built for), or NULL when it cannot describe itself. Called
 * once per load, before any job. */
typedef const attnscope_plugin_descriptor* (*attnscope_plugin_entry_fn)(uint32_t host_abi_version);

/* What a plugin defines (the host never calls it by name: it looks the symbol up). */
ATTNSCOPE_PLUGIN_EXPORT const attnscope_plugin_descriptor* attnscope_plugin_entry(uint32_t host_abi_version);

/* ---- Handles and plain data the services exchange -------------------------------- */

typedef struct attnscope_model attnscope_model;   /* a loaded checkpoint + tokenizer on the job's device */
typedef struct attnscope_prompt attnscope_prompt; /* token ids and text (a task prompt or free text) */
typedef struct attnscope_result attnscope_result; /* per-head values and a JSON summary */
typedef struct attnscope_run attnscope_run;       /* the job's run of one model in the store */

typedef struct attnscope_model_info {
  const char* path;         /* the checkpoint folder */
  const char* architecture; /* e.g. "LlamaForCausalLM" */
  int32_t layers;
  int32_t heads;            /* query heads per layer */
  int32_t kv_heads;
  int32_t head_dim;
  int64_t vocab_size;
  int64_t max_context;      /* max_position_embeddings */
  const char* device;       /* "cpu" or "cuda" */
} attnscope_model_info;

/* Task prompts (docs/tasks.md). */
#define ATTNSCOPE_TASK_NEEDLE 1  /* a needle of needles_file in the haystack at `depth` */
#define ATTNSCOPE_TASK_PASSKEY 2 /* the classic five-digit pass key (drawn from `seed`) at `depth` */
#define ATTNSCOPE_TASK_REPEAT 3  /* random tokens (from `seed`) repeated `copies` times to `length` */

typedef struct attnscope_task_request {
  int32_t kind;               /* ATTNSCOPE_TASK_* */
  int32_t chat;               /* 1: wrap in the model's chat format where it has one */
  int64_t length;             /* tokens of the whole prompt */
  double depth;               /* needle and passkey: 0 (start) to 1 (end) of the haystack */
  uint64_t seed;              /* passkey: the key; needle: 0 starts at the first paragraph, else a drawn one; repeat: the tokens */
  int64_t needle_index;       /* needle: which needle of the file (0-based) */
  int64_t copies;             /* repeat: copies of the random block (0: 4) */
  const char* needles_file;   /* NULL: the bundled sample_data/prompts/needles.jsonl */
  const char* haystack_file;  /* NULL: the bundled haystack.txt */
  const char* template_file;  /* NULL: the bundled needle.txt or passkey.txt */
} attnscope_task_request;

typedef struct attnscope_prompt_info {
  int64_t tokens;              /* ids the model reads, BOS included */
  const char* text;
  const char* description;     /* one line, stable for the same inputs */
  const char* expected_answer; /* what a correct continuation contains; "" when none */
  const char* parameters_json; /* a JSON object of every input that determines the prompt */
} attnscope_prompt_info;

/* One value of one head. */
typedef struct attnscope_head_value {
  int32_t layer;
  int32_t head;       /* query head */
  const char* metric; /* "sink_mass", "retrieval_score", "pattern", ... */
  double value;       /* NaN when undefined or when `text` is set */
  const char* text;   /* a text value ("pattern"); NULL for numbers */
} attnscope_head_value;

typedef struct attnscope_result_view {
  const attnscope_head_value* values; /* ordered by layer, head, metric */
  uint64_t value_count;
  const char* summary_json;           /* a JSON object; its keys are the service's (see each service) */
} attnscope_result_view;

/* Attention capture of every head over one prompt (prefill, then greedy tokens). */
typedef struct attnscope_capture_request {
  int64_t sink_tokens;  /* keys counted as sinks; 0: the default (4) */
  int64_t local_window; /* keys counted as local; 0: the default (64) */
  int64_t generate;     /* greedy tokens after the prompt; 0: none */
} attnscope_capture_request;

/* The profiling job (docs/profiling.md) on a grid of task prompts. */
typedef struct attnscope_profile_request {
  const char* tasks;             /* "needle", "passkey", "repeat", comma-separated; NULL: "needle" */
  const int64_t* lengths;        /* prompt tokens, length_count of them (at least 1) */
  uint32_t length_count;
  uint32_t depth_count;          /* 0: depths 0, 0.5, 1 */
  const double* depths;          /* needle and passkey depths, 0 to 1 */
  const char* metrics;           /* "all" or a comma-separated list (docs/profiling.md); NULL: all */
  uint64_t seed;
  int64_t needle_count;          /* needles of the file: 0 the default (1); -1 all */
  int32_t chat;                  /* 1: the model's chat format */
  int32_t reserved;              /* 0 */
  const char* needles_file;      /* NULL: the bundled files, as for attnscope_task_request */
  const char* haystack_file;
  const char* needle_template_file;
  const char* passkey_template_file;
} attnscope_profile_request;

/* A sparse-attention plan evaluated on one prompt against full attention (docs/mask-lab.md). */
typedef struct attnscope_mask_request {
  const char* method;          /* a family ("streaming", "vertical_slash", "block_topk", ...) or
                                  "duo", "moa", "minference"; NULL when plan_file is given */
  double density;              /* the budget as a share of visible entries, (0, 1]; 0: the method's default */
  const char* const* params;   /* "key=value" settings of the family, as masks --param takes them */
  uint32_t param_count;
  int32_t end_to_end;          /* 1: also KL, top-1 agreement and perplexity with the plan in every layer */
  const char* plan_file;       /* a plan file (docs/mask-plans.md) instead of method; NULL otherwise */
} attnscope_mask_request;

/* One completed unit of a job, committed to the store in one transaction. */
typedef struct attnscope_unit {
  int64_t ordinal;               /* >= 0: the unit's place in the job's grid, unique within the run */
  const char* task;              /* what the unit ran, e.g. "passkey" */
  const char* parameters_json;   /* a JSON object, e.g. {"length": 1024}; NULL: {} */
  const char* outcome_json;      /* a JSON object, e.g. {"correct": true}; NULL: {} */
  attnscope_prompt* prompt;      /* stored with the unit (its text and tokens); may be NULL */
  const attnscope_head_value* values;
  uint64_t value_count;
} attnscope_unit;

/* One span a head needed on a prompt of `length` tokens (e.g. its span_90), for
 * fit_span_rules. */
typedef struct attnscope_span_sample {
  int32_t layer;
  int32_t head;  /* query head */
  double length; /* N: the prompt's tokens */
  double span;   /* S: the span the head needed at that length, tokens */
} attnscope_span_sample;

/* A profile file of another tool (docs/export-formats.md) written from per-head values. */
typedef struct attnscope_export_request {
  const char* format;                 /* "moa", "duo", "minference", "razor" or "csv" */
  const char* name;                   /* the file in the output folder (duo: a folder of two files) */
  const attnscope_head_value* values; /* per query head, the metrics the format reads (export_profile) */
  uint64_t value_count;
  const char* const* options;         /* "key=value" settings of the format (export_profile) */
  uint32_t option_count;
  uint32_t reserved;                  /* 0 */
} attnscope_export_request;

#define ATTNSCOPE_LOG_DEBUG 0
#define ATTNSCOPE_LOG_INFO 1
#define ATTNSCOPE_LOG_WARNING 2
#define ATTNSCOPE_LOG_ERROR 3

/* ---- Host services --------------------------------------------------------------- */

struct attnscope_host_services {
  uint32_t abi_version; /* ATTNSCOPE_PLUGIN_ABI_VERSION of the host */
  uint32_t struct_size; /* sizeof the table the host provides (ATTNSCOPE_HAS_SERVICE) */

  /* Errors. last_error: why the last failing service call of this job failed ("" when
   * none did). set_error: the message of the job's failure, for a job that returns
   * anything but ATTNSCOPE_OK (copied). */
  const char* (*last_error)(attnscope_job* job);
  void (*set_error)(attnscope_job* job, const char* message);

  /* Progress, cancellation, log. fraction: 0 to 1 of the whole job (the host shows the
   * time left from it); message: what is under way (may be NULL). is_cancelled: 1 when
   * the user asked the job to stop: finish or drop the unit under way and return
   * ATTNSCOPE_CANCELLED. Services that run long return ATTNSCOPE_CANCELLED themselves. */
  void (*report_progress)(attnscope_job* job, double fraction, const char* message);
  int32_t (*is_cancelled)(attnscope_job* job);
  void (*log_message)(attnscope_job* job, int32_t level, const char* message);

  /* Parameters, as declared by the job and parsed by the host (defaults filled in).
   * ATTNSCOPE_NOT_FOUND for an undeclared name, ATTNSCOPE_INVALID_ARGUMENT for another
   * type. Strings live as long as the job. */
  attnscope_status (*param_int)(attnscope_job* job, const char* name, int64_t* out);
  attnscope_status (*param_float)(attnscope_job* job, const char* name, double* out);
  attnscope_status (*param_bool)(attnscope_job* job, const char* name, int32_t* out);
  attnscope_status (*param_string)(attnscope_job* job, const char* name, const char** out);
  attnscope_status (*param_list_size)(attnscope_job* job, const char* name, uint32_t* out);
  attnscope_status (*param_list_int)(attnscope_job* job, const char* name, uint32_t index, int64_t* out);
  attnscope_status (*param_list_float)(attnscope_job* job, const char* name, uint32_t index, double* out);
  attnscope_status (*param_list_string)(attnscope_job* job, const char* name, uint32_t index, const char** out);

  /* The job's inputs and folders (strings live as long as the job). model_path: the
   * models the user gave (--model, in order; the bundled sample model when none).
   * output_folder: where write_file puts files (created before the job starts).
   * data_folder: the bundled sample_data folder (prompts, the sample model). */
  uint32_t (*model_count)(attnscope_job* job);
  const char* (*model_path)(attnscope_job* job, uint32_t index);
  const char* (*output_folder)(attnscope_job* job);
  const char* (*data_folder)(attnscope_job* job);

  /* Models: a checkpoint folder (config.json, safetensors, tokenizer.json) loaded on the
   * job's device. */
  attnscope_status (*load_model)(attnscope_job* job, const char* path, attnscope_model** out);
  attnscope_status (*model_info)(attnscope_job* job, attnscope_model* model, attnscope_model_info* out);
  void (*release_model)(attnscope_job* job, attnscope_model* model);

  /* Prompts for a model: a task prompt, or free text (add_special: 1 adds BOS as the
   * tokenizer does). */
  attnscope_status (*task_prompt)(attnscope_job* job, attnscope_model* model, const attnscope_task_request* request,
                                  attnscope_prompt** out);
  attnscope_status (*text_prompt)(attnscope_job* job, attnscope_model* model, const char* text, int32_t add_special,
                                  attnscope_prompt** out);
  attnscope_status (*prompt_info)(attnscope_job* job, attnscope_prompt* prompt, attnscope_prompt_info* out);
  void (*release_prompt)(attnscope_job* job, attnscope_prompt* prompt);

  /* Computation, each giving a result (release_result when done).
   * capture: per head sink_mass, local_mass, entropy, top1_sink_fraction,
   *   top1_mean_distance, heaviest_key, heaviest_key_share; summary {"tokens",
   *   "continuation", "continuation_ids"}.
   * profile: the run-level per-head metrics of the profiling job over the request's grid
   *   (docs/metrics.md names them); summary {"units_done", "units_total", "units": [{"task",
   *   "description", "prompt_tokens", "outcome"}], "notes"}. Not stored by itself: commit
   *   what the job keeps as units of its own run.
   * evaluate_masks: per head density, recall, min_recall, output_rel_l2, output_cosine
   *   and the applied "method" (text); summary {"plan", "tokens", "density", "recall",
   *   "min_recall", "output_rel_l2", "output_cosine"} and with end_to_end "kl_mean",
   *   "kl_p95", "kl_max", "top1_agreement", "ppl_full", "ppl_sparse". The prompt's dense
   *   run is recorded once per (model, prompt) and kept with the prompt for further plans. */
  attnscope_status (*capture)(attnscope_job* job, attnscope_model* model, attnscope_prompt* prompt,
                              const attnscope_capture_request* request, attnscope_result** out);
  attnscope_status (*profile)(attnscope_job* job, attnscope_model* model, const attnscope_profile_request* request,
                              attnscope_result** out);
  attnscope_status (*evaluate_masks)(attnscope_job* job, attnscope_model* model, attnscope_prompt* prompt,
                                     const attnscope_mask_request* request, attnscope_result** out);
  attnscope_status (*result_view)(attnscope_job* job, attnscope_result* result, attnscope_result_view* out);
  void (*release_result)(attnscope_job* job, attnscope_result* result);

  /* The store (docs/store-format.md). begin_run: the job's run for `model` (kind "plugin",
   * task "PLUGIN.JOB", the parsed parameters); when the job resumes an earlier batch,
   * the earlier run of that model is reopened instead. The host ends every run the job
   * began: complete, interrupted (cancelled) or failed (with the job's error).
   * unit_done: *out = 1 when the run already holds the unit `ordinal` (completed before
   * an interruption): skip it. commit_unit: the unit, its values and its prompt in one
   * transaction. record_run_values: the run-level values (after the units).
   * read_values: a run's values (any run of the store, by id), of the unit `ordinal`, or
   * with ordinal -1 the run-level values (the mean over its units when it has none);
   * summary {"run": id, "kind", "task", "status", "parameters", "units"} and for a unit
   * also {"ordinal", "unit_task", "unit_parameters", "outcome"}. */
  attnscope_status (*begin_run)(attnscope_job* job, attnscope_model* model, attnscope_run** out);
  int64_t (*run_id)(attnscope_job* job, attnscope_run* run);
  attnscope_status (*unit_done)(attnscope_job* job, attnscope_run* run, int64_t ordinal, int32_t* out);
  attnscope_status (*commit_unit)(attnscope_job* job, attnscope_run* run, const attnscope_unit* unit);
  attnscope_status (*record_run_values)(attnscope_job* job, attnscope_run* run, const attnscope_head_value* values,
                                        uint64_t value_count);
  attnscope_status (*read_values)(attnscope_job* job, int64_t run_id, int64_t ordinal, attnscope_result** out);

  /* Files in the job's output folder: `name` relative to it (sub-folders are created;
   * no "..", no absolute paths), replaced whole (written to a temporary file, renamed). */
  attnscope_status (*write_file)(attnscope_job* job, const char* name, const void* data, uint64_t size);
  /* An image as a PNG file, named and written as write_file does: `pixels` holds `height`
   * rows (top first) of `width` pixels of `channels` bytes each (1 grey, 3 RGB, 4 RGBA),
   * rows packed. For heatmaps and plots without an image library in the plugin. */
  attnscope_status (*write_png)(attnscope_job* job, const char* name, uint32_t width, uint32_t height,
                                uint32_t channels, const uint8_t* pixels);

  /* ---- Added after the first services of ABI 1 (AttnScope 0.1.0, the length-scaling
   * job): check with ATTNSCOPE_HAS_SERVICE before calling. ---- */

  /* MoA's elastic span rule of each head (docs/metrics.md, span_90): least squares of
   * span = alpha + beta * length over the head's samples, beta clamped to [0, 1] (MoA's
   * range) and alpha then the mean of span - beta * length. The result has, for every
   * head with samples, "span_alpha" (tokens), "span_beta" and "span_samples"; summary
   * {"heads", "samples"}. ATTNSCOPE_INVALID_ARGUMENT naming the head when it has fewer
   * than two distinct lengths, or for a value that is not finite or a negative index. */
  attnscope_status (*fit_span_rules)(attnscope_job* job, const attnscope_span_sample* samples, uint64_t sample_count,
                                     attnscope_result** out);
  /* A profile file for `model`'s shape (its config.json's layers, query and KV heads),
   * written into the output folder as write_file does, from the request's values:
   *   moa        span_alpha and span_beta of every head (fit_span_rules' result): MoA's
   *              {"alphas", "betas"} plan;
   *   duo        streaming_gate of every head: DuoAttention's folder (name/
   *              full_attention_heads.tsv, name/config.json); options kv_reduction=max|mean,
   *              sink=N, recent=N (default 128, 256);
   *   minference pattern (text) of every head; options stream=V,S and vertical_slash=V,S;
   *   razor      induction_score and echo_score of every head; options echo_ratio=R,
   *              induction_ratio=R;
   *   csv        every value given (our profile CSV).
   * ATTNSCOPE_INVALID_ARGUMENT naming the head and metric a format misses, an unknown
   * format or option, or a head outside the model. */
  attnscope_status (*export_profile)(attnscope_job* job, attnscope_model* model, const attnscope_export_request* request);
};

/* Whether `host` provides the service `field` (a table from an older host of the same
 * ABI version may be shorter). */
#define ATTNSCOPE_HAS_SERVICE(host, field) \
  ((host)->struct_size >= offsetof(attnscope_host_services, field) + sizeof((host)->field))

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATTNSCOPE_PLUGIN_H */
