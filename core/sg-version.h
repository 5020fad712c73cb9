/* sg-version.h: export macro and version of libsalesgetter. */
#pragma once

#if defined(SG_COMPILATION)
#define SG_API __attribute__((visibility("default")))
#else
#define SG_API
#endif
