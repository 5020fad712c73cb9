/* cmd-import-list.c: salesgetter import-list — prospect lists (CSV). Placeholder until the
 * core list importer lands. */
#include "config.h"

#include "cli.h"

int
sg_cmd_import_list (int argc, char **argv, SgGlobalOptions *globals)
{
  return SG_EXIT_FAILED;
}
