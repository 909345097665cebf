#include "plugins/host/plugin_library.h"

#include <dlfcn.h>

#include <cstring>

#include "kernels/error.h"

namespace attnscope::plugins {
namespace {

std::string dl_message() {
  const char* text = dlerror();
  return text ? std::string(text) : std::string("no message from dlerror");
}

// Closes the handle unless released: the library goes away when its descriptor is refused.
struct HandleGuard {
  void* handle;
  ~HandleGuard() {
    if (handle) dlclose(handle);
  }
};

}  // namespace

std::shared_ptr<const PluginLibrary> PluginLibrary::load(const std::filesystem::path& path) {
  const std::string where = path.string();
  dlerror();  // clear a stale message
  HandleGuard guard{dlopen(where.c_str(), RTLD_NOW | RTLD_LOCAL)};
  if (!guard.handle) throw Error(where, "cannot load the plugin: " + dl_message());
  dlerror();
  void* symbol = dlsym(guard.handle, ATTNSCOPE_PLUGIN_ENTRY_NAME);
  if (!symbol)
    throw Error(where, "not an AttnScope plugin: it exports no " + std::string(ATTNSCOPE_PLUGIN_ENTRY_NAME) + " (" +
                           dl_message() + ")");
  // POSIX guarantees a function pointer survives the round trip through void*.
  attnscope_plugin_entry_fn entry = nullptr;
  static_assert(sizeof(entry) == sizeof(symbol));
  std::memcpy(&entry, &symbol, sizeof entry);
  const attnscope_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry(ATTNSCOPE_PLUGIN_ABI_VERSION);
  } catch (...) {
    throw Error(where, std::string(ATTNSCOPE_PLUGIN_ENTRY_NAME) + " threw an exception (a plugin must not let one cross the C ABI)");
  }
  PluginInfo info = read_descriptor(descriptor, path);
  std::shared_ptr<const PluginLibrary> library(new PluginLibrary(guard.handle, std::move(info)));
  guard.handle = nullptr;
  return library;
}

PluginLibrary::~PluginLibrary() {
  if (handle_) dlclose(handle_);
}

}  // namespace attnscope::plugins
