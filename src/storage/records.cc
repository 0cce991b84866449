#include "storage/records.h"

#include <cereal/archives/portable_binary.hpp>
#include <istream>
#include <optional>
#include <sstream>
#include <streambuf>
#include <utility>

namespace caserepo::storage {
namespace {

// Strings are written as u64 length + bytes. On load the length is checked
// against the limit before any allocation: a damaged length can never ask
// for gigabytes.
constexpr std::uint64_t kMaxText = kMaxDescriptionBytes;

template <class Archive>
void save_text(Archive& ar, const std::string& s) {
  ar(static_cast<std::uint64_t>(s.size()));
  ar(cereal::binary_data(s.data(), s.size()));
}
template <class Archive>
void load_text(Archive& ar, std::string& s) {
  std::uint64_t n = 0;
  ar(n);
  if (n > kMaxText) throw cereal::Exception("string length " + std::to_string(n) + " over the limit");
  s.resize(static_cast<std::size_t>(n));
  ar(cereal::binary_data(s.data(), s.size()));
}
template <class Archive>
void save_opt(Archive& ar, const std::optional<std::string>& s) {
  ar(static_cast<std::uint8_t>(s ? 1 : 0));
  if (s) save_text(ar, *s);
}
template <class Archive>
void load_opt(Archive& ar, std::optional<std::string>& s) {
  std::uint8_t present = 0;
  ar(present);
  if (present > 1) throw cereal::Exception("bad presence byte");
  if (present) {
    s.emplace();
    load_text(ar, *s);
  } else {
    s.reset();
  }
}
// A NullableChange: 0 keep, 1 set to null, 2 set to a value.
template <class Archive>
void save_change(Archive& ar, const NullableChange& c) {
  ar(static_cast<std::uint8_t>(!c ? 0 : (*c ? 2 : 1)));
  if (c && *c) save_text(ar, **c);
}
template <class Archive>
void load_change(Archive& ar, NullableChange& c) {
  std::uint8_t kind = 0;
  ar(kind);
  if (kind > 2) throw cereal::Exception("bad change byte");
  c.reset();
  if (kind == 1) c.emplace();
  if (kind == 2) {
    c.emplace(std::string());
    load_text(ar, **c);
  }
}

struct Saver {
  cereal::PortableBinaryOutputArchive& ar;
  void operator()(const engine::ResolvedCreate& r) {
    const CreateRequest& q = r.request;
    save_text(ar, *q.caseId);
    save_opt(ar, q.businessKey);
    save_text(ar, *q.caseType);
    save_text(ar, q.clientId);
    save_text(ar, q.clientType);
    save_text(ar, q.status);
    save_opt(ar, q.statusDescription);
    save_opt(ar, q.source);
    ar(r.stamp_ms);
  }
  void operator()(const engine::ResolvedUpdate& r) {
    save_text(ar, r.caseId);
    save_opt(ar, r.patch.caseType);
    save_opt(ar, r.patch.clientId);
    save_opt(ar, r.patch.clientType);
    save_opt(ar, r.patch.status);
    save_change(ar, r.patch.businessKey);
    save_change(ar, r.patch.statusDescription);
    save_change(ar, r.patch.source);
    ar(r.stamp_ms);
  }
  void operator()(const engine::ResolvedRemove& r) { save_text(ar, r.caseId); }
};

// Reads one mutation of `type` from `ar`; throws cereal::Exception when the
// bytes do not decode, and Error (Corruption) for an unknown type.
template <class Archive>
std::optional<Mutation> load_mutation(Archive& ar, RecordType type) {
  switch (type) {
    case RecordType::kCreate: {
      engine::ResolvedCreate r;
      CreateRequest& q = r.request;
      q.caseId.emplace();
      load_text(ar, *q.caseId);
      load_opt(ar, q.businessKey);
      q.caseType.emplace();
      load_text(ar, *q.caseType);
      load_text(ar, q.clientId);
      load_text(ar, q.clientType);
      load_text(ar, q.status);
      load_opt(ar, q.statusDescription);
      load_opt(ar, q.source);
      ar(r.stamp_ms);
      return Mutation(std::move(r));
    }
    case RecordType::kUpdate: {
      engine::ResolvedUpdate r;
      load_text(ar, r.caseId);
      load_opt(ar, r.patch.caseType);
      load_opt(ar, r.patch.clientId);
      load_opt(ar, r.patch.clientType);
      load_opt(ar, r.patch.status);
      load_change(ar, r.patch.businessKey);
      load_change(ar, r.patch.statusDescription);
      load_change(ar, r.patch.source);
      ar(r.stamp_ms);
      return Mutation(std::move(r));
    }
    case RecordType::kRemove: {
      engine::ResolvedRemove r;
      load_text(ar, r.caseId);
      return Mutation(std::move(r));
    }
    default:
      return std::nullopt;
  }
}

// A read-only stream buffer over the payload where it lies (the segment read
// whole): an istringstream would copy every record once more.
class ViewBuffer : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // get area only: never written through
    setg(begin, begin, begin + bytes.size());
  }
};

template <class Decode>
auto decode_with(std::string_view payload, Decode&& decode) -> decltype(decode(std::declval<cereal::PortableBinaryInputArchive&>())) {
  ViewBuffer buffer(payload);
  std::istream in(&buffer);
  try {
    cereal::PortableBinaryInputArchive ar(in);
    auto decoded = decode(ar);
    if (!decoded.ok()) return decoded;
    if (in.peek() != std::char_traits<char>::eof()) return Error::Corruption("record payload has trailing bytes");
    return decoded;
  } catch (const cereal::Exception& e) {
    return Error::Corruption(std::string("record payload does not decode: ") + e.what());
  }
}

std::string unknown_type(RecordType type) { return "unknown record type " + std::to_string(static_cast<int>(type)); }

}  // namespace

RecordType type_of(const Mutation& m) {
  switch (m.index()) {
    case 0: return RecordType::kCreate;
    case 1: return RecordType::kUpdate;
    default: return RecordType::kRemove;
  }
}

std::string encode_payload(const Mutation& m) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    std::visit(Saver{ar}, m);
  }
  return std::move(out).str();
}

Result<Mutation> decode_payload(RecordType type, std::string_view payload) {
  return decode_with(payload, [&](auto& ar) -> Result<Mutation> {
    auto m = load_mutation(ar, type);
    if (!m) return Error::Corruption(unknown_type(type));
    return std::move(*m);
  });
}

std::string encode_stream_payload(const StreamRecord& r) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(r.position);
    ar(static_cast<std::uint8_t>(r.mutation ? type_of(*r.mutation) : RecordType{0}));
    if (r.mutation) std::visit(Saver{ar}, *r.mutation);
  }
  return std::move(out).str();
}

Result<StreamRecord> decode_stream_payload(std::string_view payload) {
  return decode_with(payload, [&](auto& ar) -> Result<StreamRecord> {
    StreamRecord r;
    std::uint8_t inner = 0;
    ar(r.position, inner);
    if (r.position == 0) return Error::Corruption("stream record at position 0");
    if (inner != 0) {
      const auto type = static_cast<RecordType>(inner);
      r.mutation = load_mutation(ar, type);
      if (!r.mutation) return Error::Corruption("stream record holds an " + unknown_type(type));
    }
    return r;
  });
}

Result<StreamRecord> decode_record(RecordType type, std::string_view payload) {
  if (type == RecordType::kStream) return decode_stream_payload(payload);
  auto m = decode_payload(type, payload);
  if (!m.ok()) return m.error();
  return StreamRecord{0, std::move(*m)};
}

}  // namespace caserepo::storage
