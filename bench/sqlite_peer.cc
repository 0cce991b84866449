// SQLite :memory: as the peer: one table, an index per filter field and per
// sort order, prepared statements cached per query shape, exact COUNT(*)
// for totals, keyset tokens on (date, seq).
#include <sqlite3.h>

#include <functional>

#include <map>
#include <stdexcept>

#include "peer.h"

namespace caserepo::bench {
namespace {

std::int64_t ms(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp ts(std::int64_t v) { return Timestamp(std::chrono::milliseconds(v)); }

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db) + " in " + sql);
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    next_ = 1;
    return *this;
  }
  Statement& bind(const std::string& s) {
    sqlite3_bind_text(stmt_, next_++, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& bind(const std::optional<std::string>& s) {
    if (s) return bind(*s);
    sqlite3_bind_null(stmt_, next_++);
    return *this;
  }
  Statement& bind(std::int64_t v) {
    sqlite3_bind_int64(stmt_, next_++, v);
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errstr(rc));
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  // The column's text in place (no copy): its length.
  std::size_t bytes(int col) const {
    (void)sqlite3_column_text(stmt_, col);
    return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col));
  }
  std::optional<std::string> text(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col)), sqlite3_column_bytes(stmt_, col));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int next_ = 1;
};

constexpr const char* kColumns =
    "caseId, businessKey, caseType, clientId, clientType, status, statusDescription, source, creationDate, "
    "updateDate, seq, touchSeq";

class SqlitePeer final : public Peer {
 public:
  SqlitePeer(const std::vector<Entry>& entries, bool analyze, const SqliteFile* file = nullptr) : analyze_(analyze) {
    if (sqlite3_open(file ? file->path.c_str() : ":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite open");
    if (file) {
      name_ = "sqlite-wal-" + file->synchronous;
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=" + file->synchronous);
    }
    exec("CREATE TABLE entries (seq INTEGER PRIMARY KEY, caseId TEXT NOT NULL, businessKey TEXT, "
         "caseType TEXT NOT NULL, clientId TEXT NOT NULL, clientType TEXT NOT NULL, status TEXT NOT NULL, "
         "statusDescription TEXT, source TEXT, creationDate INTEGER NOT NULL, updateDate INTEGER NOT NULL, "
         "touchSeq INTEGER NOT NULL, isCurrent INTEGER NOT NULL)");
    exec("BEGIN");
    Statement insert(db_, std::string("INSERT INTO entries (") + kColumns + ", isCurrent) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
    std::map<std::string, std::int64_t> newest;
    for (std::size_t i = 0; i < entries.size(); ++i) newest[entries[i].caseId] = static_cast<std::int64_t>(i + 1);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      const auto seq = static_cast<std::int64_t>(i + 1);
      insert.reset().bind(e.caseId).bind(e.businessKey).bind(e.caseType).bind(e.clientId).bind(e.clientType)
          .bind(e.status).bind(e.statusDescription).bind(e.source).bind(ms(e.creationDate)).bind(ms(e.updateDate))
          .bind(seq).bind(seq).bind(std::int64_t{newest[e.caseId] == seq});
      insert.step();
    }
    exec("COMMIT");
    next_seq_ = static_cast<std::int64_t>(entries.size()) + 1;
    // The same access paths caserepo has: every filter field and both orders.
    for (const char* column : {"caseId", "businessKey", "caseType", "clientId", "clientType", "status", "source"}) {
      exec(std::string("CREATE INDEX by_") + column + " ON entries(" + column + ")");
    }
    exec("CREATE INDEX by_creation ON entries(creationDate, seq)");
    exec("CREATE INDEX by_update ON entries(updateDate, touchSeq)");
    if (analyze_) exec("ANALYZE");
  }
  ~SqlitePeer() override {
    statements_.clear();
    sqlite3_close(db_);
  }

  std::string name() const override { return !name_.empty() ? name_ : analyze_ ? "sqlite" : "sqlite-noanalyze"; }

  std::optional<Entry> get(const std::string& caseId) override {
    Statement& s = statement(std::string("SELECT ") + kColumns + " FROM entries WHERE caseId = ? ORDER BY seq DESC LIMIT 1");
    s.reset().bind(caseId);
    if (!s.step()) return std::nullopt;
    return row(s);
  }

  std::size_t get_in_place(const std::string& caseId) override {
    Statement& s = statement(std::string("SELECT ") + kColumns + " FROM entries WHERE caseId = ? ORDER BY seq DESC LIMIT 1");
    s.reset().bind(caseId);
    if (!s.step()) return 0;
    std::size_t bytes = 0;
    for (int col = 0; col < 8; ++col) bytes += s.bytes(col);
    return bytes;
  }

  std::size_t history_in_place(const std::string& caseId) override {
    Statement& s = statement(std::string("SELECT ") + kColumns + " FROM entries WHERE caseId = ? ORDER BY seq");
    s.reset().bind(caseId);
    std::size_t bytes = 0;
    while (s.step()) {
      for (int col = 0; col < 8; ++col) bytes += s.bytes(col);
    }
    return bytes;
  }

  std::size_t history(const std::string& caseId) override {
    Statement& s = statement(std::string("SELECT ") + kColumns + " FROM entries WHERE caseId = ? ORDER BY seq");
    s.reset().bind(caseId);
    std::vector<Entry> out;
    while (s.step()) out.push_back(row(s));
    return out.size();
  }

  // " WHERE ..." for a filter, and a function binding its values.
  static std::pair<std::string, std::function<void(Statement&)>> where_of(const Filter& f) {
    std::string where = " WHERE 1";
    auto in = [&](const char* column, const std::vector<std::string>& values) {
      if (values.empty()) return;
      where += std::string(" AND ") + column + " IN (";
      for (std::size_t i = 0; i < values.size(); ++i) where += i ? ",?" : "?";
      where += ")";
    };
    in("caseId", f.caseId);
    in("businessKey", f.businessKey);
    in("caseType", f.caseType);
    in("clientId", f.clientId);
    in("clientType", f.clientType);
    in("status", f.status);
    in("source", f.source);
    if (f.creationDate.from) where += " AND creationDate >= ?";
    if (f.creationDate.to) where += " AND creationDate < ?";
    if (f.updateDate.from) where += " AND updateDate >= ?";
    if (f.updateDate.to) where += " AND updateDate < ?";
    if (f.currentOnly) where += " AND isCurrent = 1";
    auto bind = [f](Statement& s) {
      for (const auto* values : {&f.caseId, &f.businessKey, &f.caseType, &f.clientId, &f.clientType, &f.status, &f.source}) {
        for (const auto& v : *values) s.bind(v);
      }
      for (const auto& bound : {f.creationDate.from, f.creationDate.to, f.updateDate.from, f.updateDate.to}) {
        if (bound) s.bind(ms(*bound));
      }
    };
    return {where, bind};
  }

  std::vector<std::pair<std::string, std::uint64_t>> facets(const Filter& f, FacetField field) override {
    static const char* kColumns[] = {"status", "caseType", "clientType", "source"};
    const char* column = kColumns[static_cast<int>(field)];
    auto [where, bind_filter] = where_of(f);
    Statement& s = statement(std::string("SELECT ") + column + ", COUNT(*) FROM entries" + where + " AND " + column +
                             " IS NOT NULL GROUP BY " + column + " ORDER BY 2 DESC, 1");
    s.reset();
    bind_filter(s);
    std::vector<std::pair<std::string, std::uint64_t>> out;
    while (s.step()) out.emplace_back(*s.text(0), static_cast<std::uint64_t>(s.integer(1)));
    return out;
  }

  PeerPage search(const Filter& f, const PageRequest& page) override {
    auto [where, bind_filter] = where_of(f);

    PeerPage out;
    Statement& count = statement("SELECT COUNT(*) FROM entries" + where);
    count.reset();
    bind_filter(count);
    count.step();
    out.total = static_cast<std::uint64_t>(count.integer(0));

    const bool by_update = page.sort == SortOrder::kUpdateDateDesc || page.sort == SortOrder::kUpdateDateAsc;
    const bool desc = page.sort == SortOrder::kCreationDateDesc || page.sort == SortOrder::kUpdateDateDesc;
    const std::string date = by_update ? "updateDate" : "creationDate";
    const std::string tie = by_update ? "touchSeq" : "seq";
    const std::string dir = desc ? " DESC" : " ASC";
    std::string sql = std::string("SELECT ") + kColumns + " FROM entries" + where;
    if (!page.token.empty()) sql += " AND (" + date + ", " + tie + ")" + (desc ? " < " : " > ") + "(?, ?)";
    sql += " ORDER BY " + date + dir + ", " + tie + dir + " LIMIT ? OFFSET ?";
    Statement& select = statement(sql);
    select.reset();
    bind_filter(select);
    if (!page.token.empty()) {
      const auto colon = page.token.find(':');
      select.bind(std::stoll(page.token.substr(0, colon))).bind(std::stoll(page.token.substr(colon + 1)));
    }
    select.bind(static_cast<std::int64_t>(page.size)).bind(static_cast<std::int64_t>(page.token.empty() ? page.page * page.size : 0));
    std::int64_t last_date = 0, last_tie = 0;
    while (select.step()) {
      out.content.push_back(row(select));
      last_date = select.integer(by_update ? 9 : 8);
      last_tie = select.integer(by_update ? 11 : 10);
    }
    if (out.content.size() == page.size) out.next = std::to_string(last_date) + ":" + std::to_string(last_tie);
    return out;
  }

  void create(const CreateRequest& r, Timestamp now) override {
    // Which case it joins and the Conflict check, as the engine does.
    std::string caseId = r.caseId.value_or("");
    if (caseId.empty() && r.businessKey) {
      Statement& by_key = statement("SELECT caseId FROM entries WHERE businessKey = ? ORDER BY seq DESC LIMIT 1");
      by_key.reset().bind(*r.businessKey);
      if (by_key.step()) caseId = *by_key.text(0);
    }
    if (caseId.empty()) caseId = "sqlite-" + std::to_string(next_seq_);
    exec_cached("BEGIN");
    Statement& current = statement("SELECT clientId, caseType FROM entries WHERE caseId = ? AND isCurrent = 1");
    current.reset().bind(caseId);
    if (current.step()) {
      if (*current.text(0) != r.clientId || *current.text(1) != r.caseType.value_or("")) {
        exec_cached("ROLLBACK");
        throw std::runtime_error("sqlite: conflict");
      }
      Statement& step_down = statement("UPDATE entries SET isCurrent = 0 WHERE caseId = ? AND isCurrent = 1");
      step_down.reset().bind(caseId).step();
    }
    Statement& insert = statement(std::string("INSERT INTO entries (") + kColumns + ", isCurrent) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1)");
    const std::int64_t seq = next_seq_++;
    insert.reset().bind(caseId).bind(r.businessKey).bind(*r.caseType).bind(r.clientId).bind(r.clientType).bind(r.status)
        .bind(r.statusDescription).bind(r.source).bind(ms(now)).bind(ms(now)).bind(seq).bind(seq + touch_offset_);
    insert.step();
    exec_cached("COMMIT");
  }

  void update(const std::string& caseId, const Patch& p, Timestamp now) override {
    // The patch shapes the benchmark uses: status (and description).
    Statement& s = statement("UPDATE entries SET status = coalesce(?, status), updateDate = ?, touchSeq = ? + seq WHERE caseId = ?");
    touch_offset_ += 1 << 24;
    s.reset().bind(p.status).bind(ms(now)).bind(touch_offset_).bind(caseId).step();
  }

  std::uint64_t remove(const std::string& caseId) override {
    Statement& s = statement("DELETE FROM entries WHERE caseId = ?");
    s.reset().bind(caseId).step();
    return static_cast<std::uint64_t>(sqlite3_changes(db_));
  }

  std::uint64_t counted_bytes() const override { return static_cast<std::uint64_t>(sqlite3_memory_used()); }

 private:
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + message + " in " + sql);
    }
  }
  void exec_cached(const std::string& sql) { statement(sql).reset().step(); }

  Statement& statement(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) it = statements_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
    return *it->second;
  }

  static Entry row(const Statement& s) {
    Entry e;
    e.caseId = *s.text(0);
    e.businessKey = s.text(1);
    e.caseType = *s.text(2);
    e.clientId = *s.text(3);
    e.clientType = *s.text(4);
    e.status = *s.text(5);
    e.statusDescription = s.text(6);
    e.source = s.text(7);
    e.creationDate = ts(s.integer(8));
    e.updateDate = ts(s.integer(9));
    return e;
  }

  sqlite3* db_ = nullptr;
  std::string name_;
  bool analyze_;
  std::int64_t next_seq_ = 1;
  std::int64_t touch_offset_ = 0;
  std::map<std::string, std::unique_ptr<Statement>> statements_;
};

}  // namespace

std::unique_ptr<Peer> make_sqlite_file_peer(const std::vector<Entry>& entries, const SqliteFile& file) {
  return std::make_unique<SqlitePeer>(entries, /*analyze=*/true, &file);
}

std::unique_ptr<Peer> make_sqlite_peer(const std::vector<Entry>& entries, bool analyze) {
  return std::make_unique<SqlitePeer>(entries, analyze);
}

}  // namespace caserepo::bench
