// caserepo: the command-line tool over a data directory. JSON in and out
// in the SPEC's wire format; errors as {"error":...,"message":...} on stderr.
//
// Exit codes: 0 ok, 1 usage, 2 InvalidArgument, 3 NotFound, 4 Conflict,
// 5 IOError / Corruption / ReadOnly.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"
#include "json/wire.h"
#include "tools/exit_codes.h"
#include "tools/huge_pages.h"
#include "workload/generator.h"

namespace {

using caserepo::Error;
using caserepo::ErrorCode;
using caserepo::json::Json;

constexpr const char* kUsage = R"(usage: caserepo [--data DIR] [--fsync always|interval|none] [--app NAME] COMMAND [ARGS]

commands:
  create JSON           add a status entry            get CASEID        current entry
  update CASEID JSON    patch every entry of a case   history CASEID    all entries, oldest first
  remove CASEID         delete a case                 search JSON       a page of matching entries
  stats                 counts and persistence state  checkpoint        snapshot now, drop old log
  facets FIELD JSON     counts per value of status, caseType, clientType or source for a search filter
  verify                check every file, report      generate N        add N realistic entries
  repair                cut the log at its first damage (the cut bytes are kept in files beside it),
                        report the records dropped; for a directory that verify calls DAMAGED
  apply                 JSON lines on stdin: {"op":"create","request":{...}}, {"op":"update","caseId":..,"patch":{..}},
                        {"op":"remove","caseId":..}, {"op":"get",..}, {"op":"search","request":{..}}, {"op":"history",..};
                        one line out per line in, {"ok":RESULT} or the error JSON, written once acknowledged

--data defaults to ./caserepo-data; --fsync to interval.
exit: 0 ok, 1 usage, 2 InvalidArgument, 3 NotFound, 4 Conflict, 5 IOError/Corruption/ReadOnly
)";

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

int fail(const Error& e) {
  std::fprintf(stderr, "%s\n", dump(caserepo::json::to_json(e)).c_str());
  return caserepo::tools::exit_code(e.code());
}

// Progress on stderr when it is a terminal: one line rewritten in place,
// at most ten times a second; nothing at all otherwise.
class ProgressLine {
 public:
  static caserepo::ProgressFn make() {
    if (!::isatty(STDERR_FILENO)) return {};
    auto line = std::make_shared<ProgressLine>();
    return [line](const caserepo::Progress& p) { line->show(p); };
  }
  void show(const caserepo::Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (p.task != task_) {
      task_ = std::string(p.task);
      started_ = now;
    }
    if (!p.finished && now - shown_ < std::chrono::milliseconds(100)) return;
    shown_ = now;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(p.done) / seconds : 0;
    std::string text = task_ + ": " + std::to_string(p.done);
    if (p.total > 0) text += " of " + std::to_string(p.total);
    char tail[96];
    std::snprintf(tail, sizeof tail, " (%.0f/s", rate);
    text += tail;
    if (p.total > p.done && rate > 0) {
      std::snprintf(tail, sizeof tail, ", %.0f s left", static_cast<double>(p.total - p.done) / rate);
      text += tail;
    }
    text += ")";
    std::fprintf(stderr, "\r%-79s%s", text.c_str(), p.finished ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  std::string task_;
  std::chrono::steady_clock::time_point started_{}, shown_{};
};

int usage(const std::string& why) {
  std::fprintf(stderr, "caserepo: %s\n%s", why.c_str(), kUsage);
  return 1;
}

template <class T>
int print(const caserepo::Result<T>& r) {
  if (!r.ok()) return fail(r.error());
  std::printf("%s\n", dump(caserepo::json::to_json(*r)).c_str());
  return 0;
}

// One `apply` line: the result JSON or the error JSON.
Json apply_line(caserepo::Repository& repo, const std::string& line) {
  using namespace caserepo;
  auto parsed = json::parse(line);
  if (!parsed.ok()) return json::to_json(parsed.error());
  const Json& j = *parsed;
  auto err = [](std::string m) { return json::to_json(Error::InvalidArgument(std::move(m))); };
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) return err("each line needs a string 'op'");
  const std::string op = j["op"];
  auto ok = [](Json v) { return Json{{"ok", std::move(v)}}; };
  auto case_id = [&]() -> std::optional<std::string> {
    if (!j.contains("caseId") || !j["caseId"].is_string()) return std::nullopt;
    return j["caseId"].get<std::string>();
  };
  if (op == "create" || op == "update" || op == "remove") {  // the stream commands' envelope (docs/events.md)
    auto command = json::parse_command(j);
    if (!command.ok()) return json::to_json(command.error());
    if (command->kind == StreamCommand::Kind::kCreate) {
      auto e = repo.create(command->create);
      return e.ok() ? ok(json::to_json(*e)) : json::to_json(e.error());
    }
    if (command->kind == StreamCommand::Kind::kUpdate) {
      auto e = repo.update(command->caseId, command->patch);
      return e.ok() ? ok(json::to_json(*e)) : json::to_json(e.error());
    }
    auto n = repo.remove(command->caseId);
    return n.ok() ? ok(Json{{"removed", *n}}) : json::to_json(n.error());
  }
  if (op == "search") {
    if (!j.contains("request")) return err("'search' needs a 'request'");
    auto req = json::parse_search(j["request"]);
    if (!req.ok()) return json::to_json(req.error());
    auto r = repo.search(req->filter, req->page);
    return r.ok() ? ok(json::to_json(*r)) : json::to_json(r.error());
  }
  auto id = case_id();
  if (!id) return err("'" + op + "' needs a string 'caseId'");
  if (op == "get") {
    auto e = repo.get(*id);
    return e.ok() ? ok(json::to_json(*e)) : json::to_json(e.error());
  }
  if (op == "history") {
    auto h = repo.history(*id);
    return h.ok() ? ok(json::to_json(*h)) : json::to_json(h.error());
  }
  return err("unknown op '" + op + "'");
}

int verify_command(const std::string& dir, const caserepo::Options& options) {
  auto report = caserepo::verify(dir, options);
  if (!report.ok()) {
    std::printf("DAMAGED: %s\n", report.error().message().c_str());
    if (report.error().code() == ErrorCode::kCorruption) {
      if (auto plan = caserepo::repair(dir, options, /*dryRun=*/true); plan.ok() && plan->damaged) {
        std::printf("caserepo repair would cut %s at offset %llu, drop %llu log record(s)", plan->damagedFile.c_str(),
                    static_cast<unsigned long long>(plan->damagedOffset),
                    static_cast<unsigned long long>(plan->recordsDropped));
        if (plan->recordsDropped > 0) {
          std::printf(" (seq %llu..%llu)", static_cast<unsigned long long>(plan->firstDroppedSeq),
                      static_cast<unsigned long long>(plan->lastDroppedSeq));
        }
        std::printf(", keep %llu byte(s) aside and open with %llu entries\n",
                    static_cast<unsigned long long>(plan->bytesMoved), static_cast<unsigned long long>(plan->entries));
      }
    }
    return fail(report.error());
  }
  const auto& r = *report;
  std::printf("MANIFEST ok\n");
  if (r.snapshotSeq > 0) {
    std::printf("snapshot at seq %llu ok: %llu entries\n", static_cast<unsigned long long>(r.snapshotSeq),
                static_cast<unsigned long long>(r.snapshotEntries));
  } else {
    std::printf("no snapshot yet\n");
  }
  for (const auto& s : r.segments) std::printf("%s ok\n", s.c_str());
  std::printf("%llu log records after the snapshot; last seq %llu; %llu entries in %llu cases\n",
              static_cast<unsigned long long>(r.replayedRecords), static_cast<unsigned long long>(r.lastSeq),
              static_cast<unsigned long long>(r.entries), static_cast<unsigned long long>(r.cases));
  if (!r.tornTail.empty()) {
    std::printf("torn tail (%s, %llu bytes): a crash mid-append; the next open cuts it off\n", r.tornTail.c_str(),
                static_cast<unsigned long long>(r.tornTailBytes));
  }
  for (const auto& o : r.obsoleteFiles) std::printf("obsolete file %s (removed at the next open)\n", o.c_str());
  std::printf("verify: ok\n");
  return 0;
}

// Point-in-time repair: cut the log at its first damage, bytes kept aside.
int repair_command(const std::string& dir, const caserepo::Options& options) {
  auto r = caserepo::repair(dir, options);
  if (!r.ok()) return fail(r.error());
  Json out{{"damaged", r->damaged}, {"lastSeq", r->lastSeq}, {"entries", r->entries}};
  if (r->damaged) {
    out["damagedFile"] = r->damagedFile;
    out["damagedOffset"] = r->damagedOffset;
    out["damage"] = r->damage;
    out["recordsDropped"] = r->recordsDropped;
    out["droppedSeqs"] = r->recordsDropped > 0 ? Json{r->firstDroppedSeq, r->lastDroppedSeq} : Json(nullptr);
    out["bytesMoved"] = r->bytesMoved;
    out["evidenceFiles"] = r->evidenceFiles;
  }
  std::printf("%s\n", dump(out).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  caserepo::tools::restart_with_huge_pages(argv);
  std::string dir = "./caserepo-data";
  caserepo::Options options;
  options.progress = ProgressLine::make();
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      (void)flag;
      return std::string(argv[++i]);
    };
    if (a == "--data") {
      auto v = value("--data");
      if (!v) return usage("--data needs a directory");
      dir = *v;
    } else if (a == "--fsync") {
      auto v = value("--fsync");
      if (!v) return usage("--fsync needs always, interval or none");
      if (*v == "always") options.fsync = caserepo::FsyncPolicy::kAlways;
      else if (*v == "interval") options.fsync = caserepo::FsyncPolicy::kInterval;
      else if (*v == "none") options.fsync = caserepo::FsyncPolicy::kNone;
      else return usage("--fsync must be always, interval or none");
    } else if (a == "--app") {
      auto v = value("--app");
      if (!v) return usage("--app needs a name");
      options.applicationName = *v;
    } else if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) return usage("no command");
  const std::string cmd = args[0];
  auto need = [&](std::size_t n) { return args.size() == n + 1; };

  if (cmd == "verify") return need(0) ? verify_command(dir, options) : usage("verify takes no arguments");
  if (cmd == "repair") return need(0) ? repair_command(dir, options) : usage("repair takes no arguments");

  static const std::vector<std::pair<std::string, std::size_t>> kArity = {
      {"create", 1}, {"get", 1}, {"update", 2}, {"remove", 1}, {"search", 1}, {"history", 1},
      {"stats", 0},  {"checkpoint", 0}, {"generate", 1}, {"apply", 0}, {"facets", 2}};
  bool known = false;
  for (const auto& [name, n] : kArity) {
    if (name == cmd) {
      known = true;
      if (!need(n)) return usage(cmd + " takes " + std::to_string(n) + " argument(s)");
    }
  }
  if (!known) return usage("unknown command '" + cmd + "'");

  auto opened = caserepo::Repository::open(dir, options);
  if (!opened.ok()) return fail(opened.error());
  caserepo::Repository& repo = **opened;
  namespace json = caserepo::json;

  if (cmd == "create" || cmd == "update" || cmd == "search") {
    auto parsed = json::parse(args.back());
    if (!parsed.ok()) return fail(parsed.error());
    if (cmd == "create") {
      auto req = json::parse_create(*parsed);
      return req.ok() ? print(repo.create(*req)) : fail(req.error());
    }
    if (cmd == "update") {
      auto patch = json::parse_patch(*parsed);
      return patch.ok() ? print(repo.update(args[1], *patch)) : fail(patch.error());
    }
    auto req = json::parse_search(*parsed);
    return req.ok() ? print(repo.search(req->filter, req->page)) : fail(req.error());
  }
  if (cmd == "facets") {
    auto filter = json::parse(args[2]);
    if (!filter.ok()) return fail(filter.error());
    auto req = json::parse_facets(Json{{"field", args[1]}, {"filter", *filter}});
    if (!req.ok()) return fail(req.error());
    auto r = repo.facets(req->filter, req->field);
    if (!r.ok()) return fail(r.error());
    std::printf("%s\n", dump(json::to_json(req->field, *r)).c_str());
    return 0;
  }
  if (cmd == "get") return print(repo.get(args[1]));
  if (cmd == "history") return print(repo.history(args[1]));
  if (cmd == "remove") {
    auto n = repo.remove(args[1]);
    if (!n.ok()) return fail(n.error());
    std::printf("%s\n", dump(Json{{"removed", *n}}).c_str());
    return 0;
  }
  if (cmd == "stats") {
    std::printf("%s\n", dump(json::to_json(repo.stats(/*memory=*/true))).c_str());
    return 0;
  }
  if (cmd == "checkpoint") {
    auto c = repo.checkpoint();
    if (!c.ok()) return fail(c.error());
    std::printf("%s\n", dump(Json{{"seq", c->seq}, {"entries", c->entries}, {"seconds", c->seconds}}).c_str());
    return 0;
  }
  if (cmd == "generate") {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(args[1].c_str(), &end, 10);
    if (*end != '\0' || n == 0 || n > 100000000ULL) return usage("generate takes a count from 1 to 100000000");
    caserepo::workload::Generator gen(n + repo.stats().entries, repo.stats().lastSeq + 1);
    for (unsigned long long i = 0; i < n; ++i) {
      caserepo::CreateRequest r = gen.next();
      auto e = repo.create(r);
      if (!e.ok()) return fail(e.error());
      gen.created(*e);
      if (options.progress && (i % 4096 == 0 || i + 1 == n)) options.progress({"generating", i + 1, n, i + 1 == n});
    }
    std::printf("%s\n", dump(Json{{"generated", n}, {"entries", repo.stats().entries}}).c_str());
    return 0;
  }
  // apply: one output line per input line, flushed once acknowledged.
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::printf("%s\n", dump(apply_line(repo, line)).c_str());
    std::fflush(stdout);
  }
  return 0;
}
