#include "plugins/host/plugin_catalog.h"

#include <algorithm>

#include "kernels/error.h"

namespace attnscope::plugins {
namespace {

std::vector<std::filesystem::path> library_files(const std::filesystem::path& folder, std::vector<std::string>& warnings) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    if (entry.path().extension() != ".so") continue;
    std::error_code type_ec;
    if (entry.is_regular_file(type_ec)) files.push_back(entry.path());
  }
  if (ec) warnings.push_back("plugin folder " + folder.string() + " cannot be read: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

PluginCatalog PluginCatalog::discover(const std::vector<PluginFolder>& folders) {
  PluginCatalog catalog;
  catalog.folders_ = folders;
  for (const PluginFolder& folder : folders) {
    if (auto why = unsafe_permissions(folder.path)) {
      catalog.warnings_.push_back("plugin folder " + folder.path.string() + " (" + folder.origin +
                                  ") is not used: " + *why);
      continue;
    }
    for (const std::filesystem::path& file : library_files(folder.path, catalog.warnings_)) {
      if (auto why = unsafe_permissions(file)) {
        catalog.warnings_.push_back("plugin " + file.string() + " is not loaded: " + *why);
        continue;
      }
      std::shared_ptr<const PluginLibrary> library;
      try {
        library = PluginLibrary::load(file);
      } catch (const Error& e) {
        catalog.warnings_.push_back(std::string("plugin not loaded: ") + e.what());
        continue;
      }
      if (auto first = catalog.find(library->info().name)) {
        catalog.warnings_.push_back("plugin '" + library->info().name + "' of " + file.string() +
                                    " is ignored: the one of " + first->info().path.string() + " was found first");
        continue;
      }
      catalog.plugins_.push_back(std::move(library));
    }
  }
  return catalog;
}

PluginCatalog PluginCatalog::discover_default() {
  std::vector<std::string> warnings;
  const std::vector<PluginFolder> folders = plugin_search_path(this_executable(), warnings);
  PluginCatalog catalog = discover(folders);
  catalog.warnings_.insert(catalog.warnings_.begin(), warnings.begin(), warnings.end());
  return catalog;
}

std::shared_ptr<const PluginLibrary> PluginCatalog::find(std::string_view name) const {
  for (const auto& p : plugins_)
    if (p->info().name == name) return p;
  return nullptr;
}

PluginCatalog::JobRef PluginCatalog::find_job(std::string_view qualified) const {
  const size_t dot = qualified.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == qualified.size())
    throw Error(std::string(qualified), "name a job as PLUGIN.JOB (attnscope-cli plugins list shows them)");
  const std::string plugin_name(qualified.substr(0, dot));
  const std::string job_name(qualified.substr(dot + 1));
  const auto plugin = find(plugin_name);
  if (!plugin) {
    std::string known, searched;
    for (const auto& p : plugins_) known += (known.empty() ? "" : ", ") + p->info().name;
    for (const PluginFolder& f : folders_) searched += (searched.empty() ? "" : ", ") + f.path.string();
    throw Error(std::string(qualified), "no plugin named '" + plugin_name + "' (found: " +
                                            (known.empty() ? "none" : known) + "; searched: " +
                                            (searched.empty() ? "no folders" : searched) + ")");
  }
  const JobInfo* job = plugin->info().find_job(job_name);
  if (!job) {
    std::string known;
    for (const JobInfo& j : plugin->info().jobs) known += (known.empty() ? "" : ", ") + j.name;
    throw Error(std::string(qualified), "plugin '" + plugin_name + "' has no job '" + job_name + "' (its jobs: " + known + ")");
  }
  return {plugin, job};
}

}  // namespace attnscope::plugins
