/* cmd-role.c: salesgetter role — buying-process roles of people. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

int
sg_cmd_role (int argc, char **argv, SgGlobalOptions *globals)
{
  g_autofree char *reason = NULL;
  g_autofree char *only = NULL;
  gboolean removed = FALSE;
  const GOptionEntry entries[] = {
    { "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "Why (set, remove)", "TEXT" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &only, "Only this role (list)", "ROLE" },
    { "removed", 0, 0, G_OPTION_ARG_NONE, &removed, "Also roles a person removed (list)", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (GError) error = NULL;
  SgFormat format;
  const char *verb;
  gboolean write;

  if (!sg_cli_parse ("role", "[list [ADDRESS] | set ADDRESS ROLE | remove ADDRESS ROLE | derive]",
                     "Buying-process roles of people: suspect, prospect, lead, customer, consumer, buyer.\n"
                     "'list' shows them (all people, or one); 'set' and 'remove' record your decision, which\n"
                     "the rules never change; 'derive' applies the rules (see salesgetter-role(1)) to everyone.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  verb = argc > 1 ? argv[1] : "list";
  if (!((strcmp (verb, "list") == 0 && argc <= 3) || (strcmp (verb, "derive") == 0 && argc == 2) ||
        ((strcmp (verb, "set") == 0 || strcmp (verb, "remove") == 0) && argc == 4))) {
    sg_cli_error ("role: expected list [ADDRESS], set ADDRESS ROLE, remove ADDRESS ROLE or derive "
                  "(see 'salesgetter role --help')");
    return SG_EXIT_USAGE;
  }
  write = strcmp (verb, "list") != 0;
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, !write)) == NULL)
    return SG_EXIT_FAILED;
  if (strcmp (verb, "list") == 0) {
    g_autoptr (SgTable) t = sg_role_list (store, argc == 3 ? argv[2] : NULL, only, removed, &error);

    if (t == NULL)
      goto fail;
    sg_output_table (t, format);
    return SG_EXIT_OK;
  }
  if (strcmp (verb, "derive") == 0) {
    guint added = 0, dropped = 0;

    if (!sg_roles_derive (store, &added, &dropped, &error))
      goto fail;
    printf ("Roles derived: %u added, %u removed.\n", added, dropped);
    return SG_EXIT_OK;
  }
  if (strcmp (verb, "set") == 0 ? !sg_role_set (store, argv[2], argv[3], reason, sg_cli_actor (config), &error)
                                : !sg_role_remove (store, argv[2], argv[3], reason, sg_cli_actor (config), &error))
    goto fail;
  return SG_EXIT_OK;
fail:
  sg_cli_error ("%s", error->message);
  return sg_cli_exit_for (error);
}
