/* sg-table.h: a small result table (named, typed columns; rows of cells).
 *
 * Listings and reports come out of the library as SgTable so that every front end
 * renders them the same way: the CLI as text, JSON or CSV, the server as JSON or HTML.
 * Detail columns are for machine output only (JSON, CSV), not for the text table.
 */
#pragma once

#include <glib.h>
#include "sg-version.h"

G_BEGIN_DECLS

typedef enum {
  SG_COLUMN_TEXT,
  SG_COLUMN_INT,
  SG_COLUMN_REAL,
  SG_COLUMN_TIME, /* Unix seconds, rendered ISO 8601 UTC */
} SgColumnType;

typedef enum {
  SG_COLUMN_FLAG_NONE = 0,
  SG_COLUMN_FLAG_DETAIL = 1 << 0, /* machine output only */
} SgColumnFlags;

typedef struct _SgTable SgTable;

/* Returns: (transfer full): an empty table. */
SG_API SgTable *sg_table_new (void);
SG_API void sg_table_free (SgTable *table);

/* Columns are added before the first row. Names are snake_case; they are JSON keys.
 * Returns: the column's index. */
SG_API guint sg_table_add_column (SgTable *table, const char *name, SgColumnType type,
                                  SgColumnFlags flags);
/* Appends a row of NULL cells. Returns: its index. */
SG_API guint sg_table_append_row (SgTable *table);

/* Setters on the last row; a NULL @text leaves the cell NULL. */
SG_API void sg_table_set_text (SgTable *table, guint column, const char *text);
SG_API void sg_table_take_text (SgTable *table, guint column, char *text);
SG_API void sg_table_set_int (SgTable *table, guint column, gint64 value);
SG_API void sg_table_set_real (SgTable *table, guint column, double value);

SG_API guint sg_table_get_n_columns (const SgTable *table);
SG_API guint sg_table_get_n_rows (const SgTable *table);
SG_API const char *sg_table_get_column_name (const SgTable *table, guint column);
SG_API SgColumnType sg_table_get_column_type (const SgTable *table, guint column);
SG_API SgColumnFlags sg_table_get_column_flags (const SgTable *table, guint column);
SG_API gboolean sg_table_is_null (const SgTable *table, guint row, guint column);
/* Returns: (transfer none): the text of a TEXT cell, valid while the table lives. */
SG_API const char *sg_table_get_text (const SgTable *table, guint row, guint column);
/* INT and TIME cells. */
SG_API gint64 sg_table_get_int (const SgTable *table, guint row, guint column);
SG_API double sg_table_get_real (const SgTable *table, guint row, guint column);

/* Any cell as text: TIME as "2026-03-19T14:00:00Z", NULL as NULL.
 * Returns: (transfer full) (nullable). */
SG_API char *sg_table_format_cell (const SgTable *table, guint row, guint column);

G_END_DECLS
