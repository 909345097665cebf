#include "analysis/store/database.h"

#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "analysis/store/clock.h"
#include "analysis/store/sqlite_error.h"
#include "kernels/error.h"

namespace attnscope::store {
namespace {

constexpr int kBusyTimeoutMs = 10000;  // a writer's unit transaction takes milliseconds
constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};
constexpr uint64_t kSmallestDatabase = 512;  // one page of the smallest page size
constexpr const char* kLeftAlone = "; AttnScope leaves it untouched (give another --db or move it away)";

enum class FileState { Absent, Empty, Sqlite };

// Looks at the file's first bytes ourselves, before SQLite touches it.
FileState file_state(const std::filesystem::path& path, const std::string& where) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return FileState::Absent;
  if (ec) throw Error(where, "cannot be examined: " + ec.message());
  if (std::filesystem::is_directory(status)) throw Error(where, "is a directory, not a database file");
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(where, "cannot be examined: " + ec.message());
  if (size == 0) return FileState::Empty;
  std::ifstream in(path, std::ios::binary);
  std::array<char, 16> magic{};
  if (!in.read(magic.data(), magic.size()) && size >= magic.size())
    throw Error(where, "cannot be read (permissions?)");
  if (size < magic.size() || std::string_view(magic.data(), magic.size()) != kSqliteMagic)
    throw Error(where, "is not an SQLite database (it does not start with \"SQLite format 3\")" + std::string(kLeftAlone));
  if (size < kSmallestDatabase)
    throw Error(where, "is a truncated SQLite database (" + std::to_string(size) + " bytes)" + kLeftAlone);
  return FileState::Sqlite;
}

// "file:" URI of `path` with `?immutable=1`: % ? # percent-encoded.
std::string immutable_uri(const std::filesystem::path& path) {
  std::string uri = "file:";
  for (const char c : path.string()) {
    if (c == '%' || c == '?' || c == '#') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", unsigned(static_cast<unsigned char>(c)));
      uri += hex;
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

sqlite3* open_connection(const std::filesystem::path& path, const std::string& where, int flags) {
  sqlite3* connection = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &connection, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const Error error = sqlite_error(connection, rc, where, "cannot open the database");
    sqlite3_close(connection);
    throw error;
  }
  sqlite3_extended_result_codes(connection, 1);
  sqlite3_busy_timeout(connection, kBusyTimeoutMs);
  if ((flags & SQLITE_OPEN_READONLY) == 0) return connection;
  // A WAL store needs its -shm file even to be read; where neither it exists nor the
  // folder can take it (a store on read-only media, another user's folder) SQLite says
  // "read-only" to the first query. Nothing can write such a file: read it as immutable.
  const int probe = sqlite3_exec(connection, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  if (probe == SQLITE_OK || ((probe & 0xff) != SQLITE_READONLY && (probe & 0xff) != SQLITE_CANTOPEN))
    return connection;
  sqlite3_close(connection);
  connection = nullptr;
  const int again = sqlite3_open_v2(immutable_uri(path).c_str(), &connection,
                                    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  if (again != SQLITE_OK) {
    const Error error = sqlite_error(connection, again, where, "cannot open the database read-only");
    sqlite3_close(connection);
    throw error;
  }
  sqlite3_extended_result_codes(connection, 1);
  return connection;
}

// Closes the connection when the checks of one open() leave scope.
struct ConnectionGuard {
  sqlite3* connection;
  ~ConnectionGuard() { sqlite3_close(connection); }
};

int64_t scalar(sqlite3* connection, std::string_view sql, const std::string& where, std::string_view what) {
  SqliteStatement statement(connection, sql, where);
  if (!statement.step(what)) throw Error(where, "cannot " + std::string(what) + ": no result");
  return statement.integer(0);
}

bool has_version_table(sqlite3* connection, const std::string& where) {
  return scalar(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
                where, "read the schema") > 0;
}

int read_version(sqlite3* connection, const std::string& where) {
  if (!has_version_table(connection, where))
    throw Error(where, "has AttnScope's application id but no schema_migrations table: it is damaged" +
                           std::string(kLeftAlone));
  return int(scalar(connection, "SELECT IFNULL(MAX(version), 0) FROM schema_migrations", where, "read the schema version"));
}

std::string table_names(sqlite3* connection, const std::string& where) {
  try {
    SqliteStatement statement(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT 4",
                              where);
    std::string out;
    int n = 0;
    while (statement.step("list the tables")) {
      if (n++ == 3) {
        out += ", ...";
        break;
      }
      out += (out.empty() ? "" : ", ") + statement.text(0);
    }
    return out.empty() ? "no tables" : "tables " + out;
  } catch (const Error&) {
    return "tables unreadable";
  }
}

// At most the header page, no tables and no application id: a file that holds nothing,
// what a run killed between creating the file (SQLite writes the header when it switches
// to WAL) and committing the schema leaves. It is taken as a new store; a file with any
// table or another program's id is not.
bool holds_nothing(sqlite3* connection, const std::string& where) {
  return scalar(connection, "PRAGMA page_count", where, "read the page count") <= 1 &&
         scalar(connection, "SELECT count(*) FROM sqlite_master", where, "read the schema") == 0 &&
         scalar(connection, "PRAGMA application_id", where, "read the application id") == 0;
}

void check_application_id(sqlite3* connection, const std::string& where) {
  const int64_t id = scalar(connection, "PRAGMA application_id", where, "read the application id");
  if (id == kApplicationId) return;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", unsigned(uint32_t(id)));
  throw Error(where, "is an SQLite database of another program (application_id " + std::string(hex) + ", " +
                         table_names(connection, where) + "), not an AttnScope store" + kLeftAlone);
}

void check_integrity(sqlite3* connection, const std::string& where) {
  SqliteStatement statement(connection, "PRAGMA quick_check(3)", where);
  std::string problems;
  while (statement.step("check the file's integrity")) {
    const std::string line = statement.text(0);
    if (line == "ok") return;
    problems += (problems.empty() ? "" : "; ") + line;
  }
  throw Error(where, "is corrupt (SQLite's quick_check: " + problems + ")" + kLeftAlone);
}

std::string newer_schema(int version, int known) {
  return "has schema version " + std::to_string(version) + ", newer than the " + std::to_string(known) +
         " this AttnScope (" ATTNSCOPE_VERSION ") knows: use a newer AttnScope" + kLeftAlone;
}

void check_migration_list(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != int(i) + 1)
      throw Error("store schema", "migration " + std::to_string(i) + " has version " +
                                      std::to_string(migrations[i].version) + ", not " + std::to_string(i + 1));
}

// Every check that needs no write, on a read-only connection, so that a foreign file
// (say one with a hot rollback journal) is never written to.
int inspect_existing(const std::filesystem::path& path, const std::string& where, std::span<const Migration> migrations) {
  try {
    ConnectionGuard guard{open_connection(path, where, SQLITE_OPEN_READONLY)};
    if (holds_nothing(guard.connection, where)) return 0;
    check_application_id(guard.connection, where);
    check_integrity(guard.connection, where);
    const int version = read_version(guard.connection, where);
    if (version > latest_version(migrations)) throw Error(where, newer_schema(version, latest_version(migrations)));
    return version;
  } catch (const Error& e) {
    // SQLite's own failures (a page too damaged to read) get the same promise as ours.
    if (e.problem().find(kLeftAlone) != std::string::npos) throw;
    throw Error(where, e.problem() + kLeftAlone);
  }
}

}  // namespace

Database::Database(std::filesystem::path path, OpenMode mode)
    : path_(std::move(path)), where_(path_.string()), mode_(mode) {}

Database::Database(Database&& other) noexcept
    : path_(std::move(other.path_)),
      where_(std::move(other.where_)),
      mode_(other.mode_),
      connection_(other.connection_),
      version_(other.version_) {
  other.connection_ = nullptr;
}

Database::~Database() { sqlite3_close(connection_); }

Database Database::open(const std::filesystem::path& path, OpenMode mode) {
  return open(path, mode, store_migrations());
}

Database Database::open(const std::filesystem::path& path, OpenMode mode, std::span<const Migration> migrations) {
  check_migration_list(migrations);
  Database db(path, mode);
  const std::string& where = db.where_;
  const FileState state = file_state(path, where);
  int version = 0;
  if (state == FileState::Sqlite) version = inspect_existing(path, where, migrations);

  if (mode == OpenMode::ReadOnly) {
    if (state == FileState::Absent) throw Error(where, "no such database (a profile run creates it)");
    if (state == FileState::Empty) throw Error(where, "is an empty file, not yet an AttnScope store");
    if (version < latest_version(migrations))
      throw Error(where, "has schema version " + std::to_string(version) + " but this AttnScope uses " +
                             std::to_string(latest_version(migrations)) +
                             ": open it once for writing (e.g. a profile run) to upgrade it");
    db.connection_ = open_connection(path, where, SQLITE_OPEN_READONLY);
    db.version_ = version;
    db.execute("PRAGMA foreign_keys = ON", "enable foreign keys");
    return db;
  }

  if (state == FileState::Absent && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) throw Error(path.parent_path().string(), "cannot create the database's directory: " + ec.message());
  }
  db.connection_ = open_connection(path, where, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.execute("PRAGMA foreign_keys = ON", "enable foreign keys");
  // A statement still stepping holds a read transaction, in which the mode cannot change:
  // each is finished before the next runs.
  auto pragma_text = [&](std::string_view sql, std::string_view what) {
    SqliteStatement statement(db.connection_, sql, where);
    return statement.step(what) ? statement.text(0) : std::string();
  };
  if (pragma_text("PRAGMA journal_mode", "read the journal mode") != "wal" &&
      pragma_text("PRAGMA journal_mode = WAL", "switch to WAL mode") != "wal")
    throw Error(where, "cannot switch to WAL mode (is it on a network file system?)");
  // Every committed unit reaches the disk before the next begins.
  db.execute("PRAGMA synchronous = FULL", "set the sync mode");
  db.migrate(migrations);
  return db;
}

void Database::migrate(std::span<const Migration> migrations) {
  Transaction transaction(*this);
  // Checked again under the write lock: another process may have created the file since.
  const bool empty = holds_nothing(connection_, where_);
  if (!empty) check_application_id(connection_, where_);
  version_ = empty ? 0 : read_version(connection_, where_);
  const int latest = latest_version(migrations);
  if (version_ > latest) throw Error(where_, newer_schema(version_, latest));
  if (version_ == latest && !empty) return;  // the transaction rolls back: nothing was written

  execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
          "applied_ms INTEGER NOT NULL, tool_version TEXT NOT NULL)",
          "create the schema_migrations table");
  execute("PRAGMA application_id = " + std::to_string(kApplicationId), "set the application id");
  SqliteStatement record = prepare("INSERT INTO schema_migrations VALUES (?1, ?2, ?3, ?4)");
  for (const Migration& m : migrations) {
    if (m.version <= version_) continue;
    const std::string step = "apply migration " + std::to_string(m.version) + " (" + std::string(m.description) + ")";
    try {
      execute(m.sql, step);
    } catch (const Error& e) {
      throw Error(where_, e.problem() + "; the file is unchanged");
    }
    record.bind(1, int64_t(m.version)).bind(2, m.description).bind(3, unix_ms_now()).bind(4, ATTNSCOPE_VERSION);
    record.run("record " + step);
  }
  transaction.commit();
  version_ = latest;
}

SqliteStatement Database::prepare(std::string_view sql) const { return SqliteStatement(connection_, sql, where_); }

void Database::execute(std::string_view sql, std::string_view what) const {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(connection_, text.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) throw sqlite_error(connection_, rc, where_, "cannot " + std::string(what));
}

int64_t Database::last_insert_id() const { return int64_t(sqlite3_last_insert_rowid(connection_)); }

int64_t Database::changes() const { return int64_t(sqlite3_changes(connection_)); }

Transaction::Transaction(const Database& db) : db_(db) {
  db_.execute("BEGIN IMMEDIATE", "begin a write transaction");
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    db_.execute("ROLLBACK", "roll back");
  } catch (const Error&) {
    // SQLite already rolled back (e.g. after an I/O error); nothing is left to undo.
  }
}

void Transaction::commit() {
  db_.execute("COMMIT", "commit");
  open_ = false;
}

std::filesystem::path default_database_path() {
  // XDG: a relative XDG_DATA_HOME is invalid and ignored.
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg && std::filesystem::path(xdg).is_absolute())
    return std::filesystem::path(xdg) / "attnscope" / "attnscope.db";
  if (const char* home = std::getenv("HOME"); home && *home && std::filesystem::path(home).is_absolute())
    return std::filesystem::path(home) / ".local" / "share" / "attnscope" / "attnscope.db";
  throw Error("database", "neither XDG_DATA_HOME nor HOME names a directory: give the database file with --db");
}

}  // namespace attnscope::store
