/* sg-alloc.h: which malloc the executable runs on (common/meson.build, option jemalloc). */
#pragma once

/* "jemalloc 5.3.0-0-g…" or "glibc malloc"; static storage. */
const char *sg_alloc_describe (void);
