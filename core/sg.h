/* sg.h: libsalesgetter, the SalesGetter core library. Include this header only. */
#pragma once

#include "sg-version.h"
#include "sg-identity.h"
#include "sg-table.h"
#include "sg-store.h"
#include "sg-message.h"
#include "sg-import.h"
#include "sg-query.h"
#include "sg-pipeline.h"
#include "sg-process.h"
#include "sg-roles.h"
#include "sg-leads.h"
#include "sg-insight.h"
#include "sg-select.h"
#include "sg-report.h"
#include "sg-similar.h"
#include "sg-autocleanups.h"
