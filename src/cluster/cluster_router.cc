#include "cluster/cluster_router.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <thread>

#include "cluster/outcomes.h"
#include "cluster/partitioning.h"
#include "engine/page_token.h"
#include "events/metric_text.h"
#include "server/api.h"
#include "util/hex.h"

namespace caserepo::cluster {
namespace {

using json::Json;
using server::Endpoint;
using server::Request;
using server::Response;
using server::http::status;

constexpr auto kReadTimeout = std::chrono::seconds(10);    // all attempts of a read
constexpr auto kAttemptTimeout = std::chrono::milliseconds(1500);  // one attempt (a node waits up to 1 s for a position)
constexpr auto kWriteTimeout = std::chrono::seconds(10);   // publishing (across a NATS failover), then the outcome
constexpr std::uint32_t kChunk = kMaxPageSize;              // the most entries one partition search returns

Response reply_response(unsigned code, std::string body, const Request& req) {
  Response res{static_cast<status>(code), req.version()};
  res.set(server::http::field::content_type, server::kJsonType);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_of(const Error& e, const Request& req) {
  return server::error_response(server::status_of(e.code()), to_string(e.code()), e.message(), req.version(),
                                req.keep_alive());
}

Error unavailable(std::string message) { return Error::IOError(std::move(message)); }

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The router's page token: a token (or a start, or an end) per partition,
// the matches before the page, bound to the sort and the filter.
std::string encode_token(SortOrder sort, std::uint64_t digest, std::uint64_t before, const Json& parts) {
  return "R" + util::to_hex(Json{{"v", 1}, {"s", static_cast<int>(sort)}, {"f", digest}, {"b", before}, {"t", parts}}.dump());
}

Result<std::pair<std::uint64_t, Json>> decode_token(std::string_view token, SortOrder sort, std::uint64_t digest,
                                                    unsigned partitions) {
  const Error bad = Error::InvalidArgument("the page token is damaged, or belongs to another filter, sort or cluster");
  if (token.size() < 3 || token[0] != 'R' || token.size() > 1 << 20) return bad;
  const auto text = util::from_hex(token.substr(1));
  if (!text) return bad;
  auto j = json::parse(*text);
  if (!j.ok() || !j->is_object()) return bad;
  const Json& t = *j;
  if (!t.contains("v") || t["v"] != 1 || !t.contains("s") || t["s"] != static_cast<int>(sort) || !t.contains("f") ||
      !t["f"].is_number_unsigned() || t["f"].get<std::uint64_t>() != digest || !t.contains("b") ||
      !t["b"].is_number_unsigned() || !t.contains("t") || !t["t"].is_array() || t["t"].size() != partitions) {
    return bad;
  }
  for (const auto& part : t["t"]) {
    if (!part.is_null() && !part.is_string()) return bad;
  }
  return std::pair<std::uint64_t, Json>{t["b"].get<std::uint64_t>(), t["t"]};
}

// A partition's answer as JSON when it is 200; else the error it stands for
// (its 400 passed on, anything else Unavailable).
Result<Json> partition_json(unsigned p, const std::optional<std::pair<unsigned, const std::string*>>& reply) {
  if (!reply) return unavailable("no node of partition " + std::to_string(p) + " answered");
  auto j = json::parse(*reply->second);
  if (!j.ok()) return unavailable("partition " + std::to_string(p) + " answered with malformed JSON");
  if (reply->first != 200) {
    const std::string message = j->value("message", "partition " + std::to_string(p) + " failed");
    return reply->first == 400 ? Error::InvalidArgument(message) : unavailable(message);
  }
  return j;
}

}  // namespace

ClusterRouter::ClusterRouter(const server::ServerConfig& config, server::Metrics& metrics)
    : config_(config), metrics_(metrics), written_(new std::atomic<std::uint64_t>[config.partitions]) {
  for (unsigned p = 0; p < config.partitions; ++p) written_[p] = 0;
}

ClusterRouter::~ClusterRouter() { requester_.reset(); }

Result<std::unique_ptr<ClusterRouter>> ClusterRouter::open(const server::ServerConfig& config,
                                                           server::Metrics& metrics) {
  if (sodium_init() < 0) return Error::IOError("libsodium cannot start");
  std::unique_ptr<ClusterRouter> r(new ClusterRouter(config, metrics));
  auto link = events::NatsLink::connect(config.nats_urls, "caserepo-router " + config.node_id, 10000,
                                          /*send_asap=*/true);
  if (!link.ok()) return link.error();
  r->link_ = std::move(*link);
  if (auto s = r->link_->ensure_stream(config.stream, {command_subjects(config.stream)}, config.nats_replicas,
                                       /*duplicate_window_ms=*/2 * 60 * 1000);
      !s.ok()) {
    return s.error();
  }
  auto requester = Requester::make(r->link_->connection());
  if (!requester.ok()) return requester.error();
  r->requester_ = std::move(*requester);
  metrics.set_extra([router = r.get()] { return router->router_metrics(); });
  return r;
}

bool ClusterRouter::blocks(Endpoint e) const { return e != Endpoint::kHealth && e != Endpoint::kMetrics; }

std::string ClusterRouter::read_payload(unsigned p, std::string_view body) const {
  std::string out = std::to_string(written_[p].load());
  out.push_back('\n');
  out += body;
  return out;
}

std::vector<std::optional<ClusterRouter::Reply>> ClusterRouter::ask(
    std::string_view op, const std::vector<std::pair<unsigned, std::string>>& payloads) const {
  // Reads are idempotent: a request lost with a node or a NATS server that
  // died holding it is sent again after a short wait, not after the whole timeout.
  std::vector<std::optional<Reply>> out(config_.partitions);
  std::vector<std::size_t> open(payloads.size());
  for (std::size_t i = 0; i < open.size(); ++i) open[i] = i;
  const auto deadline = std::chrono::steady_clock::now() + kReadTimeout;
  while (!open.empty()) {
    std::vector<Requester::Call> calls;
    for (const std::size_t i : open) calls.push_back({request_subject(config_.stream, payloads[i].first, op), payloads[i].second});
    const auto raw = requester_->call_all(calls, kAttemptTimeout);
    std::vector<std::size_t> still;
    for (std::size_t k = 0; k < raw.size(); ++k) {
      if (!raw[k] || raw[k]->size() < 4) {
        still.push_back(open[k]);
        continue;
      }
      Reply r;
      std::from_chars(raw[k]->data(), raw[k]->data() + 3, r.status);
      r.body = raw[k]->substr(4);
      out[payloads[open[k]].first] = std::move(r);
    }
    open = std::move(still);
    if (open.empty() || std::chrono::steady_clock::now() + std::chrono::milliseconds(50) >= deadline) break;
    retries_.fetch_add(open.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no responder yet: a node is starting
  }
  unanswered_.fetch_add(open.size());
  return out;
}

std::vector<std::optional<ClusterRouter::Reply>> ClusterRouter::ask_all(std::string_view op,
                                                                        const std::string& body) const {
  std::vector<std::pair<unsigned, std::string>> payloads;
  for (unsigned p = 0; p < config_.partitions; ++p) payloads.emplace_back(p, read_payload(p, body));
  return ask(op, payloads);
}

Result<std::optional<std::pair<unsigned, ClusterRouter::Reply>>> ClusterRouter::ask_hinted(
    std::string_view op, std::string_view case_id, const std::string& body) const {
  using Found = std::optional<std::pair<unsigned, Reply>>;
  const auto p = hints_.find(case_id);
  if (!p || *p >= config_.partitions) return Found();
  auto replies = ask(op, {{*p, read_payload(*p, body)}});
  if (!replies[*p]) {  // asking every partition would wait for this one again
    return unavailable("no node of partition " + std::to_string(*p) + " answered");
  }
  if (replies[*p]->status == 200) {
    hint_hits_.fetch_add(1);
    return Found(std::pair{*p, std::move(*replies[*p])});
  }
  hint_misses_.fetch_add(1);  // removed, or elsewhere now: every partition is asked
  hints_.forget(case_id);
  return Found();
}

Result<std::optional<unsigned>> ClusterRouter::locate(std::string_view case_id, const std::string& case_query,
                                                      Reply* not_found) const {
  auto hinted = ask_hinted("get", case_id, case_query);
  if (!hinted.ok()) return hinted.error();
  if (*hinted) return std::optional<unsigned>((*hinted)->first);
  const auto replies = ask_all("get", case_query);
  if (not_found && replies[0]) *not_found = *replies[0];
  for (unsigned p = 0; p < replies.size(); ++p) {
    if (replies[p] && replies[p]->status == 200) {
      hints_.remember(case_id, p);
      return std::optional<unsigned>(p);
    }
  }
  for (unsigned p = 0; p < replies.size(); ++p) {
    if (!replies[p]) return unavailable("no node of partition " + std::to_string(p) + " answered");
    if (replies[p]->status != 404) {
      auto j = json::parse(replies[p]->body);
      return j.ok() && j->contains("message") && (*j)["message"].is_string()
                 ? Error(replies[p]->status == 400 ? ErrorCode::kInvalidArgument : ErrorCode::kIOError,
                         (*j)["message"].get<std::string>())
                 : unavailable("partition " + std::to_string(p) + " failed");
    }
  }
  return std::optional<unsigned>();
}

ClusterRouter::Reply ClusterRouter::write(unsigned p, const Json& command) const {
  const std::string text = command.dump(-1, ' ', false, Json::error_handler_t::replace);
  char id_bytes[16];
  randombytes_buf(id_bytes, sizeof id_bytes);
  const std::string id = util::to_hex({id_bytes, sizeof id_bytes});
  const std::string subject = command_subject(config_.stream, p);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();  // a retry after a lost ack is the same message to JetStream
  po.MaxWait = 2000;
  const auto deadline = std::chrono::steady_clock::now() + kWriteTimeout;
  std::uint64_t position = 0;
  std::string last_error;
  for (;;) {
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_Publish(&ack, link_->js(), subject.c_str(), text.data(), static_cast<int>(text.size()),
                                    &po, &jerr);
    if (s == NATS_OK) {
      position = ack->Sequence;
      jsPubAck_Destroy(ack);
      break;
    }
    last_error = events::nats_error("publishing to " + subject, s, jerr).message();
    if (std::chrono::steady_clock::now() >= deadline) {
      return {503, json::to_json(unavailable("the command stream did not take the command: " + last_error)).dump()};
    }
    publish_retries_.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  published_.fetch_add(1);
  for (std::uint64_t seen = written_[p].load(); seen < position && !written_[p].compare_exchange_weak(seen, position);) {
  }
  // Asking for the outcome is idempotent too: again when a node died holding the request.
  std::vector<std::optional<std::string>> raw;
  do {
    raw = requester_->call_all({{request_subject(config_.stream, p, "wait"), std::to_string(position)}}, kAttemptTimeout);
    if (raw[0]) break;
    retries_.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  const std::string at = "the command was taken at stream position " + std::to_string(position);
  if (!raw[0] || raw[0]->size() < 4) {
    unanswered_.fetch_add(1);
    return {503, json::to_json(unavailable(at + ", but no node of partition " + std::to_string(p) +
                                           " reported its outcome in time; it will be applied"))
                     .dump()};
  }
  Reply r;
  std::from_chars(raw[0]->data(), raw[0]->data() + 3, r.status);
  r.body = raw[0]->substr(4);
  if (r.status == Outcomes::kUnknown) {
    return {503, json::to_json(unavailable(at + " and applied, but its outcome was not kept (the node restarted); "
                                                "read the case to see it"))
                     .dump()};
  }
  return r;
}

std::optional<std::pair<unsigned, const std::string*>> ClusterRouter::view(const std::optional<Reply>& r) {
  if (!r) return std::nullopt;
  return std::pair<unsigned, const std::string*>{r->status, &r->body};
}

Result<Json> ClusterRouter::search(const json::SearchRequest& request, Json body) const {
  const unsigned P = config_.partitions;
  const PageRequest& page = request.page;
  const bool desc = page.sort == SortOrder::kCreationDateDesc || page.sort == SortOrder::kUpdateDateDesc;
  const char* key = page.sort == SortOrder::kUpdateDateDesc || page.sort == SortOrder::kUpdateDateAsc ? "updateDate"
                                                                                                      : "creationDate";
  const std::uint64_t digest = engine::filter_digest(request.filter);
  // Where each partition starts: "" from its first match, a token, or null (nothing left).
  Json starts = Json::array();
  std::uint64_t before = 0, skip = 0;
  if (!page.token.empty()) {
    auto t = decode_token(page.token, page.sort, digest, P);
    if (!t.ok()) return t.error();
    before = t->first;
    starts = std::move(t->second);
  } else {
    for (unsigned p = 0; p < P; ++p) starts.push_back("");
    if (page.page > (UINT64_MAX - page.size) / page.size) return Error::InvalidArgument("'page' is too large");
    before = skip = page.page * page.size;
  }
  const std::uint64_t need = skip + page.size;
  body.erase("page");
  body.erase("pageToken");
  auto ask = [&](const std::vector<std::pair<unsigned, Json>>& asks) -> Result<std::vector<Json>> {
    std::vector<std::pair<unsigned, std::string>> payloads;
    for (const auto& [p, b] : asks) payloads.emplace_back(p, read_payload(p, b.dump(-1, ' ', false, Json::error_handler_t::replace)));
    const auto replies = ClusterRouter::ask("searchtokens", payloads);  // all at once: one round trip
    std::vector<Json> out(P);
    for (const auto& [p, b] : asks) {
      auto j = partition_json(p, view(replies[p]));
      if (!j.ok()) return j.error();
      out[p] = std::move(*j);
    }
    return out;
  };
  auto query = [&](const Json& from, std::uint64_t size) {
    Json b = body;
    b["size"] = std::min<std::uint64_t>(std::max<std::uint64_t>(size, 1), kChunk);
    if (from.is_string() && !from.get<std::string>().empty()) b["pageToken"] = from;
    return b;
  };

  // Round 1: up to `need` matches from every partition (the totals come with it).
  std::vector<std::pair<unsigned, Json>> asks;
  for (unsigned p = 0; p < P; ++p) asks.emplace_back(p, query(starts[p].is_null() ? Json("") : starts[p], need));
  auto first = ask(asks);
  if (!first.ok()) return first.error();
  std::uint64_t total = 0;
  std::vector<std::vector<Json>> got(P);
  std::vector<std::vector<Json>> after(P);  // per entry of got: the partition's token after it
  std::vector<Json> next(P);
  auto take = [&](unsigned p, Json& r) -> Status {
    Json& content = r["content"];
    Json& tokens = r["entryTokens"];
    if (!content.empty() && (!tokens.is_array() || tokens.size() != content.size())) {
      return unavailable("partition " + std::to_string(p) + " answered a search without its entries' tokens");
    }
    for (auto& e : content) got[p].push_back(std::move(e));
    for (auto& t : tokens) after[p].push_back(std::move(t));  // none (null) with no content
    next[p] = r["nextPageToken"];
    return ok_status();
  };
  for (unsigned p = 0; p < P; ++p) {
    Json& r = (*first)[p];
    total += r["totalElements"].get<std::uint64_t>();
    if (starts[p].is_null()) continue;
    if (auto s = take(p, r); !s.ok()) return s.error();
  }
  // Deep pages: more than one partition search holds (sequential, rare).
  const std::uint64_t wanted = std::min(need, total);
  for (unsigned p = 0; p < P; ++p) {
    while (got[p].size() < wanted && next[p].is_string()) {
      auto more = ask({{p, query(next[p], wanted - got[p].size())}});
      if (!more.ok()) return more.error();
      if (auto s = take(p, (*more)[p]); !s.ok()) return s.error();
    }
  }

  // Merge by the sort key (the dates' fixed-width text orders as the dates
  // do); ties across partitions by partition number, in the sort's direction.
  std::vector<std::size_t> at(P, 0);
  Json content = Json::array();
  for (std::uint64_t consumed = 0; consumed < need; ++consumed) {
    int best = -1;
    for (unsigned p = 0; p < P; ++p) {
      if (at[p] >= got[p].size()) continue;
      if (best < 0) {
        best = static_cast<int>(p);
        continue;
      }
      const auto& a = got[p][at[p]][key].get_ref<const std::string&>();
      const auto& b = got[best][at[best]][key].get_ref<const std::string&>();
      if (desc ? a >= b : a < b) best = static_cast<int>(p);
    }
    if (best < 0) break;
    Json& e = got[best][at[best]++];
    if (consumed >= skip) content.push_back(std::move(e));
  }

  // Each partition's cursor after what the page took from it: its token
  // after the last entry taken (no second round to the partitions).
  Json parts = Json::array();
  for (unsigned p = 0; p < P; ++p) {
    if (starts[p].is_null()) parts.push_back(nullptr);
    else if (at[p] == got[p].size()) parts.push_back(next[p].is_string() ? next[p] : Json(nullptr));
    else if (at[p] == 0) parts.push_back(starts[p]);
    else parts.push_back(std::move(after[p][at[p] - 1]));
  }
  const bool more = std::any_of(parts.begin(), parts.end(), [](const Json& t) { return !t.is_null(); });

  Json out;
  const std::uint64_t size = page.size;
  out["content"] = std::move(content);
  out["page"] = before / size;
  out["size"] = size;
  out["totalElements"] = total;
  out["totalPages"] = (total + size - 1) / size;
  out["nextPageToken"] = more ? Json(encode_token(page.sort, digest, before + out["content"].size(), parts)) : Json(nullptr);
  return out;
}

Result<Json> ClusterRouter::facets(Json body) const {
  const auto replies = ask_all("facets", body.dump(-1, ' ', false, Json::error_handler_t::replace));
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t missing = 0, total = 0;
  Json field;
  for (unsigned p = 0; p < replies.size(); ++p) {
    auto j = partition_json(p, view(replies[p]));
    if (!j.ok()) return j.error();
    field = (*j)["field"];
    for (const auto& [value, n] : (*j)["counts"].items()) counts[value] += n.get<std::uint64_t>();
    missing += (*j)["missing"].get<std::uint64_t>();
    total += (*j)["totalElements"].get<std::uint64_t>();
  }
  std::vector<std::pair<std::string, std::uint64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Json c = Json::object();
  for (const auto& [value, n] : sorted) c[value] = n;
  return Json{{"field", field}, {"counts", std::move(c)}, {"missing", missing}, {"totalElements", total}};
}

Response ClusterRouter::handle(const Request& req, const server::Route& route, const server::Principal* who,
                               std::string_view query) const {
  try {
    const auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
    switch (route.endpoint) {
      case Endpoint::kCreate: {
        auto parsed = server::body_json(req);
        if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
        Json* body = &std::get<Json>(parsed);
        auto request = json::parse_create(*body);
        if (!request.ok()) return error_of(request.error(), req);
        if (who && !who->app.empty()) {  // the low-code facade's defaults, as a single server applies them
          if (!request->caseType) (*body)["caseType"] = who->app;
          if (!request->source) (*body)["source"] = kLowCodeDefaultSource;
        }
        const unsigned p = partition_of(request->clientId, config_.partitions);
        // From the cross-partition checks below until the outcome: a join
        // by businessKey runs alone (join_gate.h), and no other create of
        // this caseId passes the check.
        const JoinGate::Hold gate(joins_, /*alone=*/!request->caseId && request->businessKey);
        std::optional<KeyLocks::Hold> hold;
        if (request->caseId) {  // a case lives in its client's partition: another client's is a conflict
          hold.emplace(creating_, "caseId:" + *request->caseId);
          auto at = locate(*request->caseId, "caseId=" + percent_encode(*request->caseId));
          if (!at.ok()) return error_of(at.error(), req);
          if (*at && **at != p) {
            return error_of(Error::Conflict("case '" + *request->caseId + "' belongs to another client or case type"), req);
          }
        }
        if (!request->caseId && request->businessKey) {
          // It joins the case of the newest entry with its businessKey, in whatever partition.
          Json probe{{"businessKey", Json::array({*request->businessKey})}, {"sort", "creationDate,desc"}, {"size", 1}};
          const auto replies = ask_all("search", dump(probe));
          std::string newest_date, newest_case;
          std::optional<unsigned> newest_at;
          for (unsigned q = 0; q < replies.size(); ++q) {
            if (!replies[q] || replies[q]->status != 200) {
              return error_of(unavailable("no node of partition " + std::to_string(q) + " answered"), req);
            }
            auto j = json::parse(replies[q]->body);
            if (!j.ok() || !(*j)["content"].is_array() || (*j)["content"].empty()) continue;
            const Json& e = (*j)["content"][0];
            if (!newest_at || e["creationDate"].get<std::string>() > newest_date) {
              newest_date = e["creationDate"].get<std::string>();
              newest_case = e["caseId"].get<std::string>();
              newest_at = q;
            }
          }
          if (newest_at && *newest_at != p) {
            return error_of(Error::Conflict("case '" + newest_case + "' belongs to another client or case type"), req);
          }
        }
        const Reply r = write(p, Json{{"op", "create"}, {"request", std::move(*body)}});
        if (r.status / 100 == 2) {  // the case is in p now: its next get, update or remove asks p alone
          if (auto entry = json::parse(r.body); entry.ok() && entry->is_object() && (*entry)["caseId"].is_string()) {
            hints_.remember((*entry)["caseId"].get<std::string>(), p);
          }
        }
        return reply_response(r.status, r.body, req);
      }
      case Endpoint::kGet:
      case Endpoint::kHistory: {
        auto id = server::case_id_param(query);
        if (!id.ok()) return error_of(id.error(), req);
        const std::string_view op = route.endpoint == Endpoint::kGet ? "get" : "history";
        auto hinted = ask_hinted(op, *id, std::string(query));
        if (!hinted.ok()) return error_of(hinted.error(), req);
        if (*hinted) return reply_response(200, (*hinted)->second.body, req);
        const auto replies = ask_all(op, std::string(query));
        for (unsigned p = 0; p < replies.size(); ++p) {
          if (replies[p] && replies[p]->status == 200) {
            hints_.remember(*id, p);
            return reply_response(200, replies[p]->body, req);
          }
        }
        // 404 only when every partition says so: a partition that could not
        // answer (503: its replica behind the router's writes) may hold the
        // case (the cluster soak saw acknowledged creates answered 404 so).
        for (unsigned p = 0; p < replies.size(); ++p) {
          if (!replies[p]) return error_of(unavailable("no node of partition " + std::to_string(p) + " answered"), req);
          if (replies[p]->status != 404) return reply_response(replies[p]->status, replies[p]->body, req);
        }
        return reply_response(replies[0]->status, replies[0]->body, req);
      }
      case Endpoint::kUpdate:
      case Endpoint::kRemove: {
        auto id = server::case_id_param(query);
        if (!id.ok()) return error_of(id.error(), req);
        const JoinGate::Hold gate(joins_, /*alone=*/false);  // it may change what a join of a businessKey finds
        Json command{{"op", route.endpoint == Endpoint::kUpdate ? "update" : "remove"}, {"caseId", *id}};
        if (route.endpoint == Endpoint::kUpdate) {
          auto body = server::body_json(req);
          if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
          if (auto patch = json::parse_patch(std::get<Json>(body)); !patch.ok()) return error_of(patch.error(), req);
          command["patch"] = std::move(std::get<Json>(body));
        }
        Reply not_found;
        auto at = locate(*id, std::string(query), &not_found);
        if (!at.ok()) return error_of(at.error(), req);
        if (!*at) return reply_response(not_found.status, not_found.body, req);  // the partitions' 404
        const Reply r = write(**at, command);
        if (route.endpoint == Endpoint::kRemove && r.status / 100 == 2) hints_.forget(*id);
        return reply_response(r.status, r.body, req);
      }
      case Endpoint::kSearchPost:
      case Endpoint::kSearchGet: {
        Json j;
        if (route.endpoint == Endpoint::kSearchPost) {
          if (!query.empty()) {
            return error_of(Error::InvalidArgument("POST /v1/search takes its request in the body, not the query string"), req);
          }
          auto body = server::body_json(req);
          if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
          j = std::move(std::get<Json>(body));
        } else {
          auto q = server::search_from_query(query);
          if (!q.ok()) return error_of(q.error(), req);
          j = std::move(*q);
        }
        auto s = json::parse_search(j);
        if (!s.ok()) return error_of(s.error(), req);
        auto r = search(*s, std::move(j));
        return r.ok() ? reply_response(200, dump(*r), req) : error_of(r.error(), req);
      }
      case Endpoint::kFacets: {
        if (!query.empty()) {
          return error_of(Error::InvalidArgument("POST /v1/facets takes its request in the body, not the query string"), req);
        }
        auto body = server::body_json(req);
        if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
        if (auto f = json::parse_facets(std::get<Json>(body)); !f.ok()) return error_of(f.error(), req);
        auto r = facets(std::move(std::get<Json>(body)));
        return r.ok() ? reply_response(200, dump(*r), req) : error_of(r.error(), req);
      }
      case Endpoint::kMe: {
        if (!query.empty()) return error_of(Error::InvalidArgument("GET /v1/me takes no parameters"), req);
        return reply_response(200,
                              dump(Json{{"name", who->name}, {"role", to_string(who->role)},
                                        {"app", who->app.empty() ? Json(nullptr) : Json(who->app)}}),
                              req);
      }
      case Endpoint::kHealth: return reply_response(200, R"({"status":"ok"})", req);
      case Endpoint::kReady: {
        const auto replies = ask_all("ping", std::string());
        for (unsigned p = 0; p < replies.size(); ++p) {
          if (!replies[p]) {
            return server::error_response(status::service_unavailable, "Unavailable",
                                          "no node serves partition " + std::to_string(p), req.version(), req.keep_alive());
          }
        }
        return reply_response(200, R"({"status":"ready"})", req);
      }
      case Endpoint::kMetrics: {
        Response res{status::ok, req.version()};
        res.set(server::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.keep_alive(req.keep_alive());
        res.body() = metrics_.render(Stats{});
        res.prepare_payload();
        return res;
      }
    }
    return error_of(Error::InvalidArgument("no such endpoint"), req);
  } catch (const std::exception& e) {  // never expected
    return server::error_response(status::internal_server_error, "InternalError", e.what(), req.version(), false);
  }
}

std::string ClusterRouter::router_metrics() const {
  const auto line = events::metric_text;
  return line("caserepo_router_commands_total", "counter", "Commands published to the command stream.", published_) +
         line("caserepo_router_publish_retries_total", "counter", "Publishes tried again (NATS failover).",
              publish_retries_) +
         line("caserepo_router_request_retries_total", "counter", "Requests to a partition sent again (no answer in time).",
              retries_) +
         line("caserepo_router_unanswered_total", "counter", "Requests to a partition that got no answer in time.",
              unanswered_) +
         line("caserepo_router_hint_hits_total", "counter",
              "Reads of a case answered by the one partition the router remembered it in.", hint_hits_) +
         line("caserepo_router_hint_misses_total", "counter",
              "Reads of a case whose remembered partition did not have it (then every partition was asked).",
              hint_misses_);
}

}  // namespace caserepo::cluster
