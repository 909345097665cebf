#pragma once
// The plugins found in the search folders (plugin_folders.h), loaded and checked. What
// cannot be used is a warning, never an error: a folder or file other users could write
// (refused), a file that is not a valid plugin, a second plugin of a name already found
// (the first wins).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/host/plugin_folders.h"
#include "plugins/host/plugin_library.h"

namespace attnscope::plugins {

class PluginCatalog {
 public:
  // Every *.so file of each folder (not recursing), in name order within a folder.
  static PluginCatalog discover(const std::vector<PluginFolder>& folders);
  // The folders of plugin_search_path(this_executable()).
  static PluginCatalog discover_default();

  const std::vector<std::shared_ptr<const PluginLibrary>>& plugins() const { return plugins_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::vector<PluginFolder>& folders() const { return folders_; }

  // By the plugin's name; null when none has it.
  std::shared_ptr<const PluginLibrary> find(std::string_view name) const;

  struct JobRef {
    std::shared_ptr<const PluginLibrary> plugin;
    const JobInfo* job = nullptr;
    std::string qualified_name() const { return plugin->info().name + "." + job->name; }
  };
  // "PLUGIN.JOB": attnscope::Error naming the plugins found (or the jobs of the plugin)
  // when there is no such job, with the folders searched when no plugin has that name.
  JobRef find_job(std::string_view qualified) const;

 private:
  std::vector<PluginFolder> folders_;
  std::vector<std::shared_ptr<const PluginLibrary>> plugins_;
  std::vector<std::string> warnings_;
};

}  // namespace attnscope::plugins
