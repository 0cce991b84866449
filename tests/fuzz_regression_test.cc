// Replays every committed fuzz input (fuzz/regressions/<target>/ and the
// seed corpora) through the fuzz target bodies: a crash the fuzzers once
// found stays fixed in every build, sanitizers or not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "targets.h"

namespace {

using Target = void (*)(const std::uint8_t*, std::size_t);

std::size_t replay(const std::string& name, Target target) {
  std::size_t n = 0;
  for (const char* kind : {"regressions", "corpus"}) {
    const std::filesystem::path dir = std::filesystem::path(CASEREPO_FUZZ_DIR) / kind / name;
    if (!std::filesystem::exists(dir)) continue;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      SCOPED_TRACE(e.path().string());
      target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++n;
    }
  }
  return n;
}

TEST(FuzzRegressionTest, OpsDifferentialInputsStillAgree) {
  EXPECT_GT(replay("ops_differential", caserepo::fuzz::ops_differential), 0u);
}

TEST(FuzzRegressionTest, PageTokenInputsStillParse) {
  EXPECT_GT(replay("page_token", caserepo::fuzz::page_token), 0u);
}

TEST(FuzzRegressionTest, LogReaderInputsStillScan) {
  EXPECT_GT(replay("log_reader", caserepo::fuzz::log_reader), 0u);
}

TEST(FuzzRegressionTest, LogEvidenceInputsStillHoldTheRule) {
  EXPECT_GT(replay("log_evidence", caserepo::fuzz::log_evidence), 0u);
}

TEST(FuzzRegressionTest, SnapshotLoaderInputsStillLoad) {
  EXPECT_GT(replay("snapshot_loader", caserepo::fuzz::snapshot_loader), 0u);
}

TEST(FuzzRegressionTest, ManifestInputsStillParse) {
  EXPECT_GT(replay("manifest", caserepo::fuzz::manifest), 0u);
}

TEST(FuzzRegressionTest, HttpRequestInputsStillGetAnAnswer) {
  EXPECT_GT(replay("http_request", caserepo::fuzz::http_request), 0u);
}

TEST(FuzzRegressionTest, JsonRequestInputsStillParse) {
  EXPECT_GT(replay("json_request", caserepo::fuzz::json_request), 0u);
}

}  // namespace
