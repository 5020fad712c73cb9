/* sg-process-private.h: helpers shared by the sales-process modules (pipeline, process,
 * roles, leads). Never installed. */
#pragma once

#include <json-glib/json-glib.h>

#include "sg-private.h"
#include "sg-table.h"

G_BEGIN_DECLS

/* Now, in Unix seconds (the store's time unit). */
gint64 _sg_now (void);

/* A JSON object being built for the change log. */
JsonBuilder *_sg_json_begin (void);
/* Ends the object. Returns: (transfer full): its text; @builder is freed. */
char *_sg_json_end (JsonBuilder *builder);
void _sg_json_str (JsonBuilder *b, const char *key, const char *value); /* NULL: null */
void _sg_json_int (JsonBuilder *b, const char *key, gint64 value);
void _sg_json_int_or_null (JsonBuilder *b, const char *key, gboolean has, gint64 value);

/* Logs @builder's object (freed) as an op. */
gboolean _sg_log_json (SgStore *store, const char *entity, const char *key, const char *op,
                       JsonBuilder *builder, GError **error);

/* The organisation owning @domain (any of its domains, or a subdomain of one).
 * Returns: its row id, 0 when unknown, -1 on a store error (with @error set). */
gint64 _sg_org_lookup (SgStore *store, const char *domain, GError **error);
/* The person with the address @address (normalised here). Returns: id, 0, or -1. */
gint64 _sg_person_lookup (SgStore *store, const char *address, GError **error);
/* The first address of a person. Returns: (transfer full) (nullable). */
char *_sg_person_address (SgStore *store, gint64 person_id);
/* The domain (natural key) of an organisation. Returns: (transfer full) (nullable). */
char *_sg_org_domain (SgStore *store, gint64 org_id);

/* Column text of a stepped statement, or NULL. (transfer none) */
#define _SG_COL_TEXT(stmt, i) ((const char *) sqlite3_column_text ((stmt), (i)))

G_END_DECLS

G_BEGIN_DECLS
/* Runs @stmt and appends a row per result row; result column i goes to table column i
 * (TEXT, INT/TIME, REAL by the table's column type). Resets @stmt. */
gboolean _sg_table_fill (SgStore *store, SgTable *table, sqlite3_stmt *stmt, GError **error);
/* Parses "YYYY-MM-DD" (UTC midnight) or an ISO 8601 date-time. Returns: FALSE if invalid. */
gboolean _sg_parse_date (const char *text, gint64 *out);
/* The lead source named @name, made when it has a known "kind:detail" form (list:NAME,
 * event:NAME, referral:ADDRESS...). Returns: its id, or -1 with SG_PROCESS_ERROR. */
gint64 _sg_lead_source_id (SgStore *store, const char *name, GError **error);
/* Stores a pipeline's stages from a pulled op's "stages" array (objects with name,
 * probability, kind, keywords, already validated), as sg_pipelines_apply() does, unlogged. */
gboolean _sg_pipeline_store_stages_json (SgStore *store, gint64 pipeline_id, JsonArray *stages, GError **error);
G_END_DECLS
