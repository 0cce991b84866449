#include "storage/records.h"

#include <cereal/archives/portable_binary.hpp>
#include <istream>
#include <optional>
#include <ostream>
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
// Into s's own string when it has one, so that its room is reused.
template <class Archive>
void load_opt(Archive& ar, std::optional<std::string>& s) {
  std::uint8_t present = 0;
  ar(present);
  if (present > 1) throw cereal::Exception("bad presence byte");
  if (present) {
    if (!s) s.emplace();
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
  if (kind == 0) c.reset();
  if (kind == 1) c.emplace();
  if (kind == 2) {
    if (!c || !*c) c.emplace(std::string());
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

// The alternative T of `out`, made (empty) unless `out` holds one: decoding
// into the one already there reuses its strings' room.
template <class T>
T& reuse(std::optional<Mutation>& out) {
  if (out) {
    if (T* t = std::get_if<T>(&*out)) return *t;
  }
  return std::get<T>(out.emplace(std::in_place_type<T>));
}

// Reads one mutation of `type` from `ar` into `out`; false for an unknown
// type. Throws cereal::Exception when the bytes do not decode.
template <class Archive>
bool load_mutation(Archive& ar, RecordType type, std::optional<Mutation>& out) {
  switch (type) {
    case RecordType::kCreate: {
      auto& r = reuse<engine::ResolvedCreate>(out);
      CreateRequest& q = r.request;
      if (!q.caseId) q.caseId.emplace();
      load_text(ar, *q.caseId);
      load_opt(ar, q.businessKey);
      if (!q.caseType) q.caseType.emplace();
      load_text(ar, *q.caseType);
      load_text(ar, q.clientId);
      load_text(ar, q.clientType);
      load_text(ar, q.status);
      load_opt(ar, q.statusDescription);
      load_opt(ar, q.source);
      ar(r.stamp_ms);
      return true;
    }
    case RecordType::kUpdate: {
      auto& r = reuse<engine::ResolvedUpdate>(out);
      load_text(ar, r.caseId);
      load_opt(ar, r.patch.caseType);
      load_opt(ar, r.patch.clientId);
      load_opt(ar, r.patch.clientType);
      load_opt(ar, r.patch.status);
      load_change(ar, r.patch.businessKey);
      load_change(ar, r.patch.statusDescription);
      load_change(ar, r.patch.source);
      ar(r.stamp_ms);
      return true;
    }
    case RecordType::kRemove: {
      load_text(ar, reuse<engine::ResolvedRemove>(out).caseId);
      return true;
    }
    default:
      return false;
  }
}

// A read-only stream buffer over the payload where it lies (the segment read
// whole): an istringstream would copy every record once more.
class ViewBuffer : public std::streambuf {
 public:
  void view(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // get area only: never written through
    setg(begin, begin, begin + bytes.size());
  }
};

// One stream per thread, pointed at each payload in turn: constructing an
// std::istream (its locale, a dynamic_cast per facet) cost more than
// decoding a record did (bench/notes.md, stop 37).
struct PayloadStream {
  ViewBuffer buffer;
  std::istream in{&buffer};
  std::istream& over(std::string_view payload) {
    buffer.view(payload);
    in.clear();
    return in;
  }
};

// Runs decode(archive over `payload`), which returns nullopt or an error;
// Corruption also when the payload does not decode or has bytes left over.
template <class Decode>
std::optional<Error> decode_with(std::string_view payload, Decode&& decode) {
  thread_local PayloadStream stream;
  std::istream& in = stream.over(payload);
  try {
    cereal::PortableBinaryInputArchive ar(in);
    if (auto bad = decode(ar)) return bad;
    if (in.peek() != std::char_traits<char>::eof()) return Error::Corruption("record payload has trailing bytes");
    return std::nullopt;
  } catch (const cereal::Exception& e) {
    return Error::Corruption(std::string("record payload does not decode: ") + e.what());
  }
}

// A write-only stream buffer that appends to a string: cereal's archive
// writes through it into the payload itself.
class AppendBuffer : public std::streambuf {
 public:
  void target(std::string* out) { out_ = out; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_->append(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) out_->push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string* out_ = nullptr;
};

// One output stream per thread, as PayloadStream: an std::ostringstream
// made per record (its locale, a dynamic_cast per facet) and a string per
// frame were 12% of a persistent create (bench/notes.md, stop 41).
template <class Save>
std::string encode_with(Save&& save) {
  struct Stream {
    AppendBuffer buffer;
    std::ostream out{&buffer};
  };
  thread_local Stream stream;
  std::string bytes;
  bytes.reserve(192);  // a generated create's payload is ~150 bytes (172 framed): no growth on the way
  stream.buffer.target(&bytes);
  stream.out.clear();
  {
    cereal::PortableBinaryOutputArchive ar(stream.out);
    save(ar);
  }
  stream.buffer.target(nullptr);
  return bytes;
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
  return encode_with([&](cereal::PortableBinaryOutputArchive& ar) { std::visit(Saver{ar}, m); });
}

Result<Mutation> decode_payload(RecordType type, std::string_view payload) {
  StreamRecord r;
  if (type == RecordType::kStream) return Error::Corruption(unknown_type(type));
  if (auto bad = decode_record_into(type, payload, r)) return *bad;
  return std::move(*r.mutation);
}

std::string encode_stream_payload(const StreamRecord& r) {
  return encode_with([&](cereal::PortableBinaryOutputArchive& ar) {
    ar(r.position);
    ar(static_cast<std::uint8_t>(r.mutation ? type_of(*r.mutation) : RecordType{0}));
    if (r.mutation) std::visit(Saver{ar}, *r.mutation);
  });
}

Result<StreamRecord> decode_stream_payload(std::string_view payload) {
  return decode_record(RecordType::kStream, payload);
}

Result<StreamRecord> decode_record(RecordType type, std::string_view payload) {
  StreamRecord r;
  if (auto bad = decode_record_into(type, payload, r)) return *bad;
  return r;
}

std::optional<Error> decode_record_into(RecordType type, std::string_view payload, StreamRecord& out) {
  if (type != RecordType::kStream) {
    out.position = 0;
    return decode_with(payload, [&](auto& ar) -> std::optional<Error> {
      if (!load_mutation(ar, type, out.mutation)) return Error::Corruption(unknown_type(type));
      return std::nullopt;
    });
  }
  return decode_with(payload, [&](auto& ar) -> std::optional<Error> {
    std::uint8_t inner = 0;
    ar(out.position, inner);
    if (out.position == 0) return Error::Corruption("stream record at position 0");
    if (inner == 0) {
      out.mutation.reset();
      return std::nullopt;
    }
    const auto inner_type = static_cast<RecordType>(inner);
    if (!load_mutation(ar, inner_type, out.mutation)) {
      return Error::Corruption("stream record holds an " + unknown_type(inner_type));
    }
    return std::nullopt;
  });
}

}  // namespace caserepo::storage
