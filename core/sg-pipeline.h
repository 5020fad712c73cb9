/* sg-pipeline.h: sales pipelines and their stages.
 *
 * A pipeline is an ordered list of stages; each stage has a probability (0-100) and a kind:
 * open (being worked on), won or lost (closed), or post (after a won close, such as
 * follow-up; the outcome stays won). Pipelines are defined in a small key file (see
 * data/salesgetter-pipelines.example and docs/internals/process.md) which front ends read
 * and apply to the store with sg_pipelines_apply(); every store also has the built-in
 * 'default' pipeline from its creation. Process operations read the definitions from the
 * store, so readers (plugin, reports, server) need no file.
 */
#pragma once

#include <glib.h>
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_PIPELINE_ERROR (sg_pipeline_error_quark ())
SG_API GQuark sg_pipeline_error_quark (void);

typedef enum {
  SG_PIPELINE_ERROR_PARSE,   /* the file is not a key file */
  SG_PIPELINE_ERROR_INVALID, /* a group or key has a bad value (named in the message) */
} SgPipelineError;

typedef enum {
  SG_STAGE_OPEN,
  SG_STAGE_WON,
  SG_STAGE_LOST,
  SG_STAGE_POST,
} SgStageKind;

/* "open", "won", "lost", "post". Returns: (transfer none). */
SG_API const char *sg_stage_kind_to_string (SgStageKind kind);
/* Returns: FALSE when @text names no kind. */
SG_API gboolean sg_stage_kind_from_string (const char *text, SgStageKind *kind);

typedef struct _SgPipelines SgPipelines;

/* Returns: (transfer full): the built-in pipeline 'default' only. */
SG_API SgPipelines *sg_pipelines_new_default (void);

/* Parses a pipelines key file held in @data (@len bytes, -1: a string); @name names it in
 * errors (a file name). The built-in 'default' pipeline stays defined unless the file
 * redefines it.
 * Returns: (transfer full): the pipelines, or NULL with SG_PIPELINE_ERROR naming @name,
 * the group and the key. */
SG_API SgPipelines *sg_pipelines_new_from_data (const char *data, gssize len, const char *name,
                                                GError **error);
/* Reads and parses the file at @path. Returns: (transfer full) or NULL with G_FILE_ERROR
 * or SG_PIPELINE_ERROR. */
SG_API SgPipelines *sg_pipelines_new_from_file (const char *path, GError **error);
SG_API void sg_pipelines_free (SgPipelines *pipelines);

/* Returns: (transfer none): the names of the pipelines, in file order (NULL-terminated). */
SG_API const char *const *sg_pipelines_get_names (const SgPipelines *pipelines);

/* Writes the definitions into @store (in one transaction): new pipelines and stages are
 * added, changed ones updated, and a stage no longer defined is deleted, or retired when a
 * process still uses it. Every change is logged (entity 'pipeline').
 * Returns: FALSE with SG_STORE_ERROR. */
SG_API gboolean sg_pipelines_apply (SgStore *store, const SgPipelines *pipelines, GError **error);

/* The stages of the store's pipelines (all, or @pipeline's), in order: pipeline, position,
 * stage, probability, kind, keywords; detail: retired.
 * Returns: (transfer full): the table, or NULL with SG_PROCESS_ERROR_UNKNOWN_PIPELINE or
 * SG_STORE_ERROR. */
SG_API SgTable *sg_pipeline_list_stages (SgStore *store, const char *pipeline, GError **error);

G_END_DECLS
