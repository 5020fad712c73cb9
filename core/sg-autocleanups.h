/* sg-autocleanups.h: g_autoptr() support for every public type, in one place. */
#pragma once

#include "sg-identity.h"
#include "sg-import.h"
#include "sg-insight.h"
#include "sg-select.h"
#include "sg-message.h"
#include "sg-pipeline.h"
#include "sg-rules.h"
#include "sg-store.h"
#include "sg-table.h"
#include "sg-text.h"
#include "sg-topics.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgIdentity, sg_identity_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgStore, sg_store_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgTable, sg_table_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgMessage, sg_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgImporter, sg_importer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgPipelines, sg_pipelines_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgText, sg_text_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgTaxonomy, sg_taxonomy_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgRules, sg_rules_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgInsight, sg_insight_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgSelection, sg_selection_free)
