/* A shared library without the entry symbol (a misspelt one instead): refused, naming
 * the file and the symbol. */
#include <attnscope/plugin.h>

ATTNSCOPE_PLUGIN_EXPORT int attnscope_plugin_entrypoint(void);

ATTNSCOPE_PLUGIN_EXPORT int attnscope_plugin_entrypoint(void) { return 0; }
