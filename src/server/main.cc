// caserepo-server: the Case Repository as a REST service (docs/server.md).
//
//   caserepo-server --data DIR --users FILE [--listen 127.0.0.1:8080] [--fsync always|interval|none]
//                   [--tls-cert FILE --tls-key FILE] [--threads N] [--insecure-plain-http] ...
//   caserepo-server users add --users FILE --name NAME --role reader|writer [--app APP]   # password on stdin
//   caserepo-server users remove --users FILE --name NAME
//
// Exit codes: 0 clean shutdown, 1 usage or cannot listen, 2-5 as the CLI's
// (5: the data directory cannot be opened — IOError, Corruption).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"
#include "json/wire.h"
#include "cluster/cluster_router.h"
#include "cluster/partition_node.h"
#include "server/config.h"
#include "server/repository_service.h"
#include "server/router.h"
#include "server/server.h"
#include "server/users.h"
#include "tools/exit_codes.h"
#include "tools/huge_pages.h"

namespace {

using caserepo::Error;
using caserepo::ErrorCode;

constexpr const char* kUsage = R"(usage:
  caserepo-server --data DIR --users FILE [--listen 127.0.0.1:8080] [--fsync always|interval|none]
                  [--tls-cert FILE --tls-key FILE] [--threads N] [--workers N] [--insecure-plain-http]
                  [--max-body BYTES] [--max-header BYTES] [--request-timeout S] [--idle-timeout S]
                  [--max-connections N] [--checkpoint-every S] [--access-log FILE|-|off]
                  [--nats URLS [--ingest STREAM[:FILTER]] [--node-id ID] [--nats-replicas N] [--no-change-feed]]
  caserepo-server --nats URLS --partitions P --serve LIST --data DIR --users FILE [--node-id ID] [--stream NAME] ...
  caserepo-server --nats URLS --partitions P --router --users FILE [--stream NAME] ...
  caserepo-server users add --users FILE --name NAME --role reader|writer [--app APP]   (password on stdin)
  caserepo-server users remove --users FILE --name NAME
)";

int fail(const Error& e) {
  std::fprintf(stderr, "%s\n", caserepo::json::to_json(e).dump().c_str());
  return caserepo::tools::exit_code(e.code());
}

int usage(const std::string& why) {
  std::fprintf(stderr, "caserepo-server: %s\n%s", why.c_str(), kUsage);
  return 1;
}

// The password: one line on stdin, never in argv (where `ps` shows it).
std::optional<std::string> read_password() {
  if (::isatty(STDIN_FILENO)) std::fprintf(stderr, "password: ");
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int users_command(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "add" && args[0] != "remove")) return usage("users add|remove");
  std::string file, name, role = "reader", app;
  for (std::size_t i = 1; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return usage(args[i] + " needs a value");
    const std::string& v = args[i + 1];
    if (args[i] == "--users") file = v;
    else if (args[i] == "--name") name = v;
    else if (args[i] == "--role") role = v;
    else if (args[i] == "--app") app = v;
    else return usage("unknown option " + args[i]);
  }
  if (file.empty() || name.empty()) return usage("--users and --name are required");
  if (args[0] == "remove") {
    if (auto s = caserepo::server::remove_user(file, name); !s.ok()) return fail(s.error());
    std::printf("removed %s\n", name.c_str());
    return 0;
  }
  const auto r = caserepo::server::parse_role(role);
  if (!r) return usage("--role must be reader or writer");
  const auto password = read_password();
  if (!password) return usage("no password on stdin");
  if (auto s = caserepo::server::add_user(file, name, *r, app, *password); !s.ok()) return fail(s.error());
  std::printf("added %s (%s%s)\n", name.c_str(), role.c_str(), app.empty() ? "" : (", app " + app).c_str());
  return 0;
}

// One repository, and its NATS ingestion and change feed when configured.
caserepo::Result<std::unique_ptr<caserepo::server::Service>> open_single(const caserepo::server::ServerConfig& config,
                                                                          caserepo::server::Metrics& metrics) {
  caserepo::Options options;
  options.fsync = config.fsync;
  std::unique_ptr<caserepo::events::NodeEvents> events;
  if (!config.nats_urls.empty()) {
    caserepo::events::EventsConfig ec;
    ec.nats_urls = config.nats_urls;
    ec.node_id = config.node_id;
    ec.replicas = config.nats_replicas;
    ec.change_feed = config.change_feed;
    ec.ingest_stream = config.ingest_stream;
    ec.ingest_filter = config.ingest_filter;
    auto connected = caserepo::events::NodeEvents::connect(std::move(ec));
    if (!connected.ok()) return connected.error();
    events = std::move(*connected);
    events->attach(options, config.data_dir);
  }
  auto repo = caserepo::Repository::open(config.data_dir, options);
  if (!repo.ok()) return repo.error();  // no listener on a damaged directory
  return std::unique_ptr<caserepo::server::Service>(
      std::make_unique<caserepo::server::RepositoryService>(std::move(*repo), std::move(events), metrics));
}

}  // namespace

int main(int argc, char** argv) {
  caserepo::tools::restart_with_huge_pages(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::printf("%s", kUsage);
    return 0;
  }
  if (!args.empty() && args[0] == "users") return users_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "--routes") {  // every path the server answers, as JSON (tests compare docs/openapi.yaml)
    std::printf("%s\n", caserepo::json::Json(caserepo::server::route_paths()).dump().c_str());
    return 0;
  }

  auto config = caserepo::server::parse_server_args(args);
  if (!config.ok()) return usage(config.error().message());
  auto users = caserepo::server::load_users(config->users_file);
  if (!users.ok()) return fail(users.error());
  if (users->empty()) {
    std::fprintf(stderr, "caserepo-server: warning: %s has no users; every API request will get 401\n",
                 config->users_file.c_str());
  }
  auto metrics = std::make_unique<caserepo::server::Metrics>();
  std::unique_ptr<caserepo::server::Service> service;
  if (config->router) {
    auto router = caserepo::cluster::ClusterRouter::open(*config, *metrics);
    if (!router.ok()) return fail(router.error());
    service = std::move(*router);
  } else if (!config->serve.empty()) {
    auto node = caserepo::cluster::PartitionNode::open(*config, *metrics);
    if (!node.ok()) return fail(node.error());  // no listener on a damaged directory
    service = std::move(*node);
  } else {
    auto single = open_single(*config, *metrics);
    if (!single.ok()) return fail(single.error());
    service = std::move(*single);
  }
  auto server = caserepo::server::Server::make(*config, std::move(metrics), std::move(service), std::move(*users));
  if (!server.ok()) return usage(server.error().message());
  return (*server)->run();
}

