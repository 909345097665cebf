#include "plugins/host/plugin_folders.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace attnscope::plugins {
namespace {

std::optional<std::filesystem::path> absolute_env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  std::filesystem::path p(value);
  if (!p.is_absolute()) return std::nullopt;
  return p;
}

bool is_folder(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec);
}

// The same folder reached by two spellings (a link, "..") is one.
std::filesystem::path identity(const std::filesystem::path& p) {
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::canonical(p, ec);
  return ec ? p.lexically_normal() : canonical;
}

}  // namespace

std::filesystem::path this_executable() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe;
}

std::vector<std::filesystem::path> app_plugin_folders(const std::filesystem::path& executable) {
  std::vector<std::filesystem::path> out;
  if (executable.empty()) return out;
  const std::filesystem::path prefix = executable.parent_path().parent_path();
  for (const std::filesystem::path& candidate : {prefix / "lib" / "attnscope" / "plugins", prefix / "plugins"})
    if (is_folder(candidate)) out.push_back(candidate);
  return out;
}

std::optional<std::filesystem::path> user_plugin_folder() {
  if (auto xdg = absolute_env("XDG_DATA_HOME")) return *xdg / "attnscope" / "plugins";
  if (auto home = absolute_env("HOME")) return *home / ".local" / "share" / "attnscope" / "plugins";
  return std::nullopt;
}

std::vector<PluginFolder> plugin_search_path(const std::filesystem::path& executable, std::vector<std::string>& warnings) {
  std::vector<PluginFolder> candidates;
  for (const std::filesystem::path& p : app_plugin_folders(executable)) candidates.push_back({p, "app"});
  if (auto user = user_plugin_folder(); user && is_folder(*user)) candidates.push_back({*user, "user"});
  if (const char* env = std::getenv("ATTNSCOPE_PLUGIN_PATH")) {
    const std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t colon = std::min(list.find(':', start), list.size());
      const std::string entry = list.substr(start, colon - start);
      start = colon + 1;
      if (entry.empty()) continue;
      if (!std::filesystem::path(entry).is_absolute())
        warnings.push_back("ATTNSCOPE_PLUGIN_PATH: '" + entry + "' is not an absolute path; ignored");
      else if (!is_folder(entry))
        warnings.push_back("ATTNSCOPE_PLUGIN_PATH: " + entry + " is not a folder; ignored");
      else
        candidates.push_back({entry, "ATTNSCOPE_PLUGIN_PATH"});
    }
  }
  std::vector<PluginFolder> out;
  std::set<std::filesystem::path> seen;
  for (PluginFolder& f : candidates)
    if (seen.insert(identity(f.path)).second) out.push_back(std::move(f));
  return out;
}

std::optional<std::string> unsafe_permissions(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "it cannot be examined (stat failed)";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return std::string("it is writable by ") + ((st.st_mode & S_IWOTH) ? "all users" : "its group") + " (mode " + mode +
           "); allow only its owner to write it (chmod go-w)";
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return "it belongs to another user (uid " + std::to_string(st.st_uid) + "), who could change it";
  return std::nullopt;
}

}  // namespace attnscope::plugins
