#pragma once
// Where plugins are looked for, in this order (the first of two plugins with one name
// wins): the app's own folder next to the executable (<prefix>/lib/attnscope/plugins for
// an installed <prefix>/bin/attnscope-cli, <build>/plugins in a build tree), the user's
// data folder ($XDG_DATA_HOME/attnscope/plugins, else ~/.local/share/attnscope/plugins),
// then each folder of ATTNSCOPE_PLUGIN_PATH (colon-separated, absolute paths only).
// A folder or file that other users could write is not trusted (unsafe_permissions).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace attnscope::plugins {

struct PluginFolder {
  std::filesystem::path path;
  std::string origin;  // "app", "user", "ATTNSCOPE_PLUGIN_PATH": for messages
};

// /proc/self/exe; empty where it cannot be read.
std::filesystem::path this_executable();

// The existing ones of <exe dir>/../lib/attnscope/plugins and <exe dir>/../plugins.
std::vector<std::filesystem::path> app_plugin_folders(const std::filesystem::path& executable);

// $XDG_DATA_HOME/attnscope/plugins (when absolute), else $HOME/.local/share/attnscope/plugins;
// nullopt when neither variable gives an absolute folder.
std::optional<std::filesystem::path> user_plugin_folder();

// The folders in search order; `warnings` gets the ATTNSCOPE_PLUGIN_PATH entries that are
// ignored (relative, or not a folder). A folder reached twice is listed once.
std::vector<PluginFolder> plugin_search_path(const std::filesystem::path& executable, std::vector<std::string>& warnings);

// Why `path` (a plugin folder or file; links followed) must not be trusted: writable by its
// group or by others, or owned by another user than this one or root. nullopt when it is safe.
std::optional<std::string> unsafe_permissions(const std::filesystem::path& path);

}  // namespace attnscope::plugins
