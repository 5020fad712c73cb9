/* sg-source.h: how the polled sources of the store (IMAP and CalDAV accounts, rows of
 * `sources` keyed by their kind) stand: their last syncs, kept in `source_status`. */
#pragma once

#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

/* @kind: a sources.kind whose syncs are recorded: "imap" or "caldav".
 * Returns: (transfer full): one row per account of @kind known to the store, by name:
 * account, uri, state (ok, failing, never), last_success, last_attempt, last_error,
 * failures, pending (messages still to fetch, if known), folders (IMAP folders or CalDAV
 * calendars), messages (interactions stored from an IMAP account, meetings from a CalDAV
 * one), last_error_at, kind; NULL with @error (SG_STORE_ERROR). */
SG_API SgTable *sg_source_get_status (SgStore *store, const char *kind, GError **error);

G_END_DECLS
