#pragma once
// One plugin loaded into the process: dlopen (RTLD_NOW | RTLD_LOCAL, so plugins cannot
// see each other's symbols), the entry point looked up and called with the host's ABI
// version, and its descriptor read and checked (plugin_info.h). The library stays loaded
// while the PluginLibrary lives; jobs hold a shared_ptr to it while they run.
#include <filesystem>
#include <memory>

#include "plugins/host/plugin_info.h"

namespace attnscope::plugins {

class PluginLibrary {
 public:
  // attnscope::Error naming the file: dlopen's message when it cannot be loaded, the
  // missing entry symbol (with dlerror), or what read_descriptor refuses.
  static std::shared_ptr<const PluginLibrary> load(const std::filesystem::path& path);

  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;
  ~PluginLibrary();

  const PluginInfo& info() const { return info_; }

 private:
  PluginLibrary(void* handle, PluginInfo info) : handle_(handle), info_(std::move(info)) {}
  void* handle_ = nullptr;
  PluginInfo info_;
};

}  // namespace attnscope::plugins
