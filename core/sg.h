/* sg.h: libsalesgetter, the SalesGetter core library. Include this header only. */
#pragma once

#include "sg-version.h"
#include "sg-identity.h"
#include "sg-table.h"
#include "sg-store.h"
#include "sg-message.h"
#include "sg-import.h"
#include "sg-query.h"
#include "sg-ical.h"
#include "sg-rules.h"
#include "sg-autocleanups.h"
