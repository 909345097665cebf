// Opening the store: a new file is created (with its directory) in WAL mode; anything that
// is not an AttnScope store of a version this build knows is refused, named, and left
// byte-identical.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <array>
#include <fstream>

#include "analysis/store/database.h"
#include "analysis/store/schema.h"
#include "kernels/error.h"
#include "tests/unit/store/store_test_support.h"

using attnscope::store::Database;
using attnscope::store::OpenMode;
using Catch::Contains;
namespace store = attnscope::store;
namespace t = attnscope::testing;

namespace {

// A store holding a few runs, so that it spans several pages.
void make_store(const std::filesystem::path& path) {
  const auto db = Database::open(path);
  const auto model = store::register_model(db, t::test_model());
  for (int r = 0; r < 3; ++r) {
    const auto run = t::begin_test_run(db, model);
    for (int u = 0; u < 8; ++u) store::commit_unit(db, run, t::test_unit(u), t::test_metrics(u));
  }
}

// Opening `path` (for writing, then read-only) throws an error containing `what` and the
// file name, and the file's bytes do not change.
void require_refused(const std::filesystem::path& path, const std::string& what) {
  const std::string before = t::read_bytes(path);
  for (OpenMode mode : {OpenMode::ReadWrite, OpenMode::ReadOnly}) {
    INFO((mode == OpenMode::ReadWrite ? "read-write" : "read-only"));
    REQUIRE_THROWS_WITH(Database::open(path, mode), Contains(path.string()) && Contains(what));
    REQUIRE(t::read_bytes(path) == before);
  }
}

// A file that SQLite itself made by running `sql` on a new connection, outside the store.
void make_raw_sqlite(const std::filesystem::path& path, const char* sql) {
  sqlite3* connection = nullptr;
  REQUIRE(sqlite3_open(path.string().c_str(), &connection) == SQLITE_OK);
  const int rc = sqlite3_exec(connection, sql, nullptr, nullptr, nullptr);
  sqlite3_close(connection);
  REQUIRE(rc == SQLITE_OK);
}

std::string scalar_text(const Database& db, std::string_view sql) {
  auto statement = db.prepare(sql);
  REQUIRE(statement.step("read"));
  return statement.text(0);
}

}  // namespace

TEST_CASE("opening a new store creates the file and its directory, in WAL mode, with our id", "[store][open]") {
  t::TempDir dir;
  const auto path = dir / "nested/deeper/attnscope.db";
  const auto db = Database::open(path);
  REQUIRE(std::filesystem::exists(path));
  REQUIRE(db.schema_version() == store::latest_version(store::store_migrations()));
  REQUIRE(scalar_text(db, "PRAGMA journal_mode") == "wal");
  REQUIRE(scalar_text(db, "PRAGMA application_id") == std::to_string(store::kApplicationId));
  REQUIRE(scalar_text(db, "SELECT count(*) FROM schema_migrations") == std::to_string(store::store_migrations().size()));
}

TEST_CASE("a store opens again, read-write and read-only, with its data", "[store][open]") {
  t::TempDir dir;
  const auto path = dir / "a.db";
  make_store(path);
  REQUIRE(store::list_runs(Database::open(path)).size() == 3);
  const auto reader = Database::open(path, OpenMode::ReadOnly);
  REQUIRE(reader.read_only());
  REQUIRE(store::list_runs(reader).size() == 3);
  REQUIRE_THROWS_WITH(store::register_model(reader, t::test_model("other")), Contains(path.string()) && Contains("read-only"));
}

TEST_CASE("a store in a folder nobody may write to still opens read-only", "[store][open]") {
  // SQLite needs a WAL store's -shm file even to read it; where the folder cannot take
  // one (read-only media, another user's folder) the store is read as immutable.
  t::TempDir dir;
  const auto path = dir / "a.db";
  make_store(path);
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  namespace fs = std::filesystem;
  const bool root = ::geteuid() == 0;  // root writes anywhere: the reader drops to nobody
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir.path(), root ? fs::perms(0755) : fs::perms(0555));
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (root && (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)) ::_exit(3);
    try {
      const auto reader = Database::open(path, OpenMode::ReadOnly);
      ::_exit(store::list_runs(reader).size() == 3 ? 0 : 1);
    } catch (...) {
      ::_exit(2);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  fs::permissions(dir.path(), fs::perms::owner_all);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(fs::exists(path.string() + "-shm"));
}

TEST_CASE("an empty file becomes a store when opened for writing", "[store][open]") {
  t::TempDir dir;
  const auto path = dir / "empty.db";
  t::write_bytes(path, "");
  REQUIRE_THROWS_WITH(Database::open(path, OpenMode::ReadOnly), Contains("empty file"));
  REQUIRE(Database::open(path).schema_version() == store::latest_version(store::store_migrations()));
}

TEST_CASE("a file a killed run left with only SQLite's header becomes a store", "[store][open]") {
  // What a SIGKILL between the switch to WAL and the schema's commit leaves (cli.kill hit
  // it on a fast machine): one page, no tables, application id 0.
  t::TempDir dir;
  const auto path = dir / "half.db";
  make_raw_sqlite(path, "PRAGMA journal_mode = WAL");
  REQUIRE(std::filesystem::file_size(path) > 0);
  REQUIRE_THROWS_WITH(Database::open(path, OpenMode::ReadOnly), Contains(path.string()) && Contains("schema version 0"));
  const auto db = Database::open(path);
  REQUIRE(db.schema_version() == store::latest_version(store::store_migrations()));
  REQUIRE(scalar_text(db, "PRAGMA application_id") == std::to_string(store::kApplicationId));
}

TEST_CASE("an SQLite file with no tables but another program's id is refused", "[store][open][refuse]") {
  t::TempDir dir;
  const auto path = dir / "theirs.db";
  make_raw_sqlite(path, "PRAGMA application_id = 1234");
  require_refused(path, "application_id 0x000004d2");
}

TEST_CASE("read-only opening of a missing file is an error and creates nothing", "[store][open]") {
  t::TempDir dir;
  const auto path = dir / "absent.db";
  REQUIRE_THROWS_WITH(Database::open(path, OpenMode::ReadOnly), Contains(path.string()) && Contains("no such database"));
  REQUIRE(!std::filesystem::exists(path));
}

TEST_CASE("a text file is refused as not SQLite and left untouched", "[store][open][refuse]") {
  t::TempDir dir;
  t::write_bytes(dir / "notes.txt", "my notes, not a database\n");
  require_refused(dir / "notes.txt", "not an SQLite database");
  std::string binary(4096, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = char(i * 131 % 251);
  t::write_bytes(dir / "random.bin", binary);
  require_refused(dir / "random.bin", "not an SQLite database");
}

TEST_CASE("a directory is refused as a database file", "[store][open][refuse]") {
  t::TempDir dir;
  REQUIRE_THROWS_WITH(Database::open(dir.path()), Contains("is a directory"));
}

TEST_CASE("another program's SQLite file is refused and left untouched", "[store][open][refuse]") {
  t::TempDir dir;
  t::make_foreign_sqlite(dir / "places.sqlite", 0);
  require_refused(dir / "places.sqlite", "another program");
  REQUIRE_THROWS_WITH(Database::open(dir / "places.sqlite"), Contains("moz_places") && Contains("0x00000000"));
  t::make_foreign_sqlite(dir / "fossil.db", 0x0f055112);
  require_refused(dir / "fossil.db", "application_id 0x0f055112");
}

TEST_CASE("a store with a damaged page is refused as corrupt and left untouched", "[store][open][refuse]") {
  t::TempDir dir;
  const auto path = dir / "damaged.db";
  make_store(path);
  std::string bytes = t::read_bytes(path);
  REQUIRE(bytes.size() >= 4 * 4096);
  // Garbage over the header and cells of the third page (a b-tree page of the schema).
  for (size_t i = 2 * 4096; i < 2 * 4096 + 64; ++i) bytes[i] = char(0xA5 ^ i);
  t::write_bytes(path, bytes);
  require_refused(path, "corrupt");
}

TEST_CASE("a truncated store is refused and left untouched", "[store][open][refuse]") {
  t::TempDir dir;
  const auto path = dir / "truncated.db";
  make_store(path);
  std::filesystem::resize_file(path, 3 * 4096);
  require_refused(path, "corrupt");
  std::filesystem::resize_file(path, 300);
  require_refused(path, "truncated SQLite database");
}

TEST_CASE("a store written by a newer AttnScope is refused and left untouched", "[store][open][refuse]") {
  t::TempDir dir;
  const auto path = dir / "future.db";
  std::vector<store::Migration> future(store::store_migrations().begin(), store::store_migrations().end());
  future.push_back({int(future.size()) + 1, "a future feature", "CREATE TABLE future_feature (x INTEGER)"});
  REQUIRE(Database::open(path, OpenMode::ReadWrite, future).schema_version() == int(future.size()));
  require_refused(path, "schema version " + std::to_string(future.size()) + ", newer than the " +
                            std::to_string(store::store_migrations().size()));
}

TEST_CASE("the default database lives in XDG_DATA_HOME, else in ~/.local/share", "[store][open]") {
  const char* old_xdg = std::getenv("XDG_DATA_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "", saved_home = old_home ? old_home : "";
  ::setenv("XDG_DATA_HOME", "/data/xdg", 1);
  ::setenv("HOME", "/home/someone", 1);
  REQUIRE(store::default_database_path() == "/data/xdg/attnscope/attnscope.db");
  ::setenv("XDG_DATA_HOME", "relative/ignored", 1);  // the XDG spec: relative paths are invalid
  REQUIRE(store::default_database_path() == "/home/someone/.local/share/attnscope/attnscope.db");
  ::unsetenv("XDG_DATA_HOME");
  REQUIRE(store::default_database_path() == "/home/someone/.local/share/attnscope/attnscope.db");
  ::unsetenv("HOME");
  REQUIRE_THROWS_WITH(store::default_database_path(), Contains("--db"));
  if (old_xdg) ::setenv("XDG_DATA_HOME", saved_xdg.c_str(), 1);
  if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}
