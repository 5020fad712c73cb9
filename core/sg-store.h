/* sg-store.h: the local SQLite store.
 *
 * One file (WAL mode, foreign keys on) holding people, organisations, interactions, tags,
 * roles, the sync change log and import state. Opening a store created by an older version
 * migrates it in one transaction; opening one from a newer version is refused.
 * An SgStore is used from one thread at a time; other processes may use the same file.
 */
#pragma once

#include <glib.h>
#include "sg-version.h"

G_BEGIN_DECLS

#define SG_STORE_ERROR (sg_store_error_quark ())
SG_API GQuark sg_store_error_quark (void);

typedef enum {
  SG_STORE_ERROR_OPEN,      /* cannot open or create the file */
  SG_STORE_ERROR_CORRUPT,   /* not a SalesGetter store, or damaged */
  SG_STORE_ERROR_BUSY,      /* locked by another process for longer than the busy timeout */
  SG_STORE_ERROR_TOO_NEW,   /* made by a newer SalesGetter */
  SG_STORE_ERROR_MIGRATION, /* a migration failed; the store is unchanged */
  SG_STORE_ERROR_SQL,       /* any other SQLite failure */
  SG_STORE_ERROR_NOT_FOUND, /* the thing asked for is not in the store */
  SG_STORE_ERROR_READ_ONLY, /* opened read-only */
} SgStoreError;

typedef enum {
  SG_STORE_OPEN_DEFAULT = 0,
  SG_STORE_OPEN_READ_ONLY = 1 << 0, /* never writes, never migrates */
} SgStoreOpenFlags;

typedef struct _SgStore SgStore;

/* Opens or creates the store at @path (its folder must exist).
 * Returns: (transfer full): the store, or NULL with SG_STORE_ERROR naming @path. */
SG_API SgStore *sg_store_open (const char *path, SgStoreOpenFlags flags, GError **error);

/* Commits nothing: an open transaction is rolled back. NULL is ignored. */
SG_API void sg_store_close (SgStore *store);

SG_API const char *sg_store_get_path (const SgStore *store);

/* The schema version this library writes, and the version of the open store. */
SG_API int sg_store_get_latest_version (void);
SG_API int sg_store_get_version (SgStore *store);

/* This store's device id (a UUID made when the store was created), for the change log. */
SG_API const char *sg_store_get_device_id (SgStore *store);

/* Transactions nest: only the outermost begin/commit reach SQLite. A rollback at any
 * depth rolls the whole transaction back. */
SG_API gboolean sg_store_begin (SgStore *store, GError **error);
SG_API gboolean sg_store_commit (SgStore *store, GError **error);
SG_API void sg_store_rollback (SgStore *store);
SG_API gboolean sg_store_in_transaction (SgStore *store);

/* Integer facts about the store kept in it (store_meta), such as how far a follow-up step
 * got: @key's value, or @fallback when it has none. */
SG_API gint64 sg_store_get_meta_int (SgStore *store, const char *key, gint64 fallback);
SG_API gboolean sg_store_set_meta_int (SgStore *store, const char *key, gint64 value, GError **error);

/* Computes the per-person and per-organisation activity summaries (person_summary,
 * org_summary) again from every interaction, in one transaction. Never needed in normal
 * use: every commit keeps them up to date, and opening a store read-write catches up
 * after a migration or a bulk load that bypassed the store. For tests, and for repair. */
SG_API gboolean sg_store_rebuild_summaries (SgStore *store, GError **error);

/* Counts, for summaries and tests. */
SG_API gint64 sg_store_count_people (SgStore *store, GError **error);
SG_API gint64 sg_store_count_organisations (SgStore *store, GError **error);
SG_API gint64 sg_store_count_interactions (SgStore *store, GError **error);

G_END_DECLS
