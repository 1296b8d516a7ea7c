#include "models/pretokenize.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/unicode.h"
#include "unicode/regex.h"
#include "unicode/unistr.h"

namespace qeff::models {
namespace {

// llama.cpp's regexes per pre-tokenizer type (llama-vocab.cpp,
// llm_tokenizer_bpe's constructor), verbatim.
constexpr const char* kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!"
    "\\S)";
constexpr const char* kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}"
    "\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}"
    "\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!"
    "\\S)|\\s+";

enum class Pre {
  kDefault,
  kLlama3,
  kJais2,
  kDeepseekLlm,
  kDeepseek3,
  kDeepseekCoder,
  kFalcon,
  kStarcoder,
  kGpt2,
  kQwen2,
  kQwen35,
  kPoro,
  kViking,
  kTekken,
  kChameleon,
  kGpt4o,
  kGemma4,
  kWhitespace,
  kSeedCoder,
  kBailingMoe,
  kExaoneMoe,
  kMinicpm5,
  kYoutu,
  kGraniteEmbMulti,
  kLaguna,
};

// The regexes are llama.cpp's, kept verbatim; clang-format would keep
// re-splitting their UTF-8 string literals.
// clang-format off
std::vector<std::string> RegexesFor(Pre p) {
  switch (p) {
    case Pre::kLlama3:
      return {kLlama3};
    case Pre::kJais2:
      return {
          "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n"
          "\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
          "\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{"
          "64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!"
          "\\S)|\\s{1,2}(?!\\S)|\\s{1}"};
    case Pre::kDeepseekLlm:
      return {
          "[\r\n]",
          "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-"
          "\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-"
          "\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-"
          "\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-"
          "\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-"
          "\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-"
          "\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-"
          "\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-"
          "\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-"
          "\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-"
          "\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-"
          "\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-"
          "\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-"
          "\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-"
          "\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-"
          "\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-"
          "\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
          "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
          "\\s+$",
          "[一-龥ࠀ-一가-퟿]+",
          "\\p{N}+",
      };
    case Pre::kDeepseek3:
      return {
          "\\p{N}{1,3}",
          "[一-龥぀-ゟ゠-ヿ]+",
          "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}"
          "\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|"
          "\\s+(?!\\S)|\\s+",
      };
    case Pre::kYoutu:
      return {
          "[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-"
          "ゟ゠-"
          "ヿ]+",
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}"
          "\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL]"
          "["
          "lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{"
          "M}"
          "]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'"
          "["
          "mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*["
          "\\r\\n]+|\\s+(?!\\S)|\\s+",
      };
    case Pre::kDeepseekCoder:
      return {
          "[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+",
          "\\p{N}",
      };
    case Pre::kFalcon:
      return {
          "[\\p{P}\\$\\+<=>\\^~\\|`]+",
          kGpt2,
          "[0-9][0-9][0-9]",
      };
    case Pre::kStarcoder:
      return {"\\p{N}", kGpt2};
    case Pre::kGpt2:
      return {kGpt2};
    case Pre::kQwen2:
      return {kQwen2};
    case Pre::kQwen35:
      return {
          "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n"
          "\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+["
          "\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
    case Pre::kPoro:
      return {" ?[^(\\s|.,!?…。，、।۔،)]+"};
    case Pre::kViking:
      return {" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}"};
    case Pre::kTekken:
      return {
          "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))"
          "+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]"
          "))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!"
          "\\S)|\\s+"};
    case Pre::kChameleon:
      return {
          "<sentinel:[0-9]+>",      "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
          "([\\t\\n]|    |  )",     "\\p{N}",
          "[\\p{P}!-/:-@\\[-`{-~]", kGpt2,
      };
    case Pre::kGpt4o:
      return {
          "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))"
          "+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n"
          "\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]"
          "|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^"
          "\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
    case Pre::kGraniteEmbMulti:
      return {
          "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}"
          "])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"
          ")?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}"
          "\\p{"
          "M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'["
          "dD])?|\\p{N}{1,3}| "
          "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+("
          "?!\\S)|\\s+"};
    case Pre::kGemma4:
      return {"[^\\n]+|[\\n]+"};
    case Pre::kWhitespace:
      return {"\\S+"};
    case Pre::kSeedCoder:
      return {
          "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n"
          "\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*["
          "\\r\\n]+|\\s+(?!\\S)|\\s+"};
    case Pre::kBailingMoe:
      return {
          "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?"
          "\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!"
          "\\S)|\\s+"};
    case Pre::kExaoneMoe:
      return {
          "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n"
          "\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s"
          "\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"};
    case Pre::kMinicpm5:
      return {
          "\\p{N}{1,3}",
          "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n"
          "\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*["
          "\\r\\n]+|\\s+(?!\\S)|\\s+"};
    case Pre::kLaguna:
      return {"[^\\n]+|[\\n]+", kQwen2};
    case Pre::kDefault:
      break;
  }
  return {
      "[\\p{P}\\$\\+<=>\\^~\\|]+",
      kGpt2,
      "\\p{N}+",
      "[0-9][0-9][0-9]",
  };
}
// clang-format on

struct PreEntry {
  Pre pre;
  // Flag changes llama.cpp applies for this name.
  bool clean_spaces = true;
  bool ignore_merges = false;
  bool add_bos = false;
  bool escape_whitespaces = false;
  bool add_sep = false;
  bool bos_is_null = false;
};

const absl::flat_hash_map<std::string, PreEntry>& PreTable() {
  static const auto* table = [] {
    auto* t = new absl::flat_hash_map<std::string, PreEntry>();
    auto add = [&](std::initializer_list<const char*> names, PreEntry e) {
      for (const char* n : names) (*t)[n] = e;
    };
    PreEntry e;
    add({"default"}, {Pre::kDefault});
    add({"minicpm5"}, {Pre::kMinicpm5, true, true});
    add({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
         "midm-2.0", "lfm2", "jina-v5-nano"},
        {Pre::kLlama3, true, true, true});
    add({"deepseek-llm"}, {Pre::kDeepseekLlm, false});
    add({"deepseek-coder"}, {Pre::kDeepseekCoder, false});
    add({"deepseek-v3"}, {Pre::kDeepseek3, false});
    add({"hunyuan-dense"}, {Pre::kDeepseek3, false});
    add({"joyai-llm"}, {Pre::kDeepseek3, false});
    add({"youtu"}, {Pre::kYoutu, false, true});
    add({"falcon"}, {Pre::kFalcon});
    add({"mpt", "olmo", "jais", "exaone4"}, {Pre::kGpt2});
    add({"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"},
        {Pre::kStarcoder});
    add({"command-r", "smollm"}, {Pre::kStarcoder, false});
    add({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es",
         "jina-v2-de", "a.x-4.0", "mellum", "modern-bert"},
        {Pre::kGpt2});
    add({"trillion", "granite-docling"}, {Pre::kGpt2, false});
    add({"jais-2"}, {Pre::kJais2});
    add({"gemma4", "granite-embed-multi-311m"},
        {Pre::kGemma4, true, false, false, true});
    add({"jina-v1-en", "jina-v2-code", "roberta-bpe"},
        {Pre::kGpt2, true, false, false, false, true});
    add({"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan",
         "solar-open"},
        {Pre::kQwen2, false});
    add({"megrez", "stablelm2"}, {Pre::kQwen2});
    add({"qwen35"}, {Pre::kQwen35, false});
    add({"dbrx", "smaug-bpe"}, {Pre::kLlama3});
    add({"poro-chat"}, {Pre::kPoro, false});
    add({"bloom", "gpt3-finnish"}, {Pre::kPoro});
    add({"glm4", "chatglm-bpe"},
        {Pre::kLlama3, true, false, false, false, false, true});
    add({"viking"}, {Pre::kViking, false});
    add({"tekken"}, {Pre::kTekken, false, true, true});
    add({"chameleon"}, {Pre::kChameleon, false, false, true});
    add({"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"},
        {Pre::kGpt4o, false});
    add({"granite-embed-multi-97m"}, {Pre::kGraniteEmbMulti, false, true});
    add({"seed-coder"}, {Pre::kSeedCoder, false});
    add({"bailingmoe", "bailingmoe2", "llada-moe"}, {Pre::kBailingMoe, false});
    add({"grok-2"}, {Pre::kQwen2, false});
    add({"laguna"}, {Pre::kLaguna, false});
    add({"exaone-moe"}, {Pre::kExaoneMoe});
    (void)e;
    return t;
  }();
  return *table;
}

}  // namespace

std::vector<std::string> SupportedPreTokenizers() {
  std::vector<std::string> names;
  for (const auto& [name, e] : PreTable()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<PreTokenizerConfig> PreTokenizerConfigFor(
    absl::string_view pre) {
  std::string key = pre.empty() ? "default" : std::string(pre);
  auto it = PreTable().find(key);
  if (it == PreTable().end()) {
    return absl::UnimplementedError(absl::StrCat(
        "unknown pre-tokenizer type '", pre,
        "'; supported: ", absl::StrJoin(SupportedPreTokenizers(), ", ")));
  }
  const PreEntry& e = it->second;
  PreTokenizerConfig c;
  c.name = key;
  c.regexes = RegexesFor(e.pre);
  c.clean_spaces = e.clean_spaces;
  c.ignore_merges = e.ignore_merges;
  c.add_bos = e.add_bos;
  c.escape_whitespaces = e.escape_whitespaces;
  c.byte_encode = !(e.pre == Pre::kGemma4 || e.pre == Pre::kWhitespace);
  c.add_sep = e.add_sep;
  c.bos_is_null = e.bos_is_null;
  return c;
}

std::string TranslateRegexForIcu(absl::string_view re) {
  constexpr absl::string_view kWs = "\\t-\\r\\x20";
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      char n = re[++i];
      switch (n) {
        case 's':
          out += in_class ? std::string(kWs) : absl::StrCat("[", kWs, "]");
          break;
        case 'S':
          out += absl::StrCat("[^", kWs, "]");
          break;
        case 'd':
          out += in_class ? "0-9" : "[0-9]";
          break;
        case 'D':
          out += "[^0-9]";
          break;
        case 'w':
          out += in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
          break;
        case 'W':
          out += "[^A-Za-z0-9_]";
          break;
        case 'p':
        case 'P': {
          size_t close = re.find('}', i);
          if (close == absl::string_view::npos) close = i;
          out += '\\';
          out.append(re.data() + i, close - i + 1);
          i = close;
          break;
        }
        default:
          out += '\\';
          out += n;
      }
      continue;
    }
    if (in_class) {
      if (c == ']') {
        in_class = false;
        out += c;
      } else if (c == '[' || c == '$' || c == '&' || c == '{' || c == '}') {
        out += '\\';
        out += c;
      } else {
        out += c;
      }
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // ECMAScript: a ']' right after '[' or '[^' is not a literal; keep.
      if (i + 1 < re.size() && re[i + 1] == '^') {
        out += '^';
        ++i;
      }
      continue;
    }
    if (c == '$') {
      out += "\\z";
      continue;
    }
    out += c;
  }
  return out;
}

struct PreTokenizer::Impl {
  std::vector<std::unique_ptr<icu::RegexPattern>> patterns;
};

PreTokenizer::PreTokenizer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
PreTokenizer::~PreTokenizer() = default;

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(
    const std::vector<std::string>& regexes) {
  auto impl = std::make_unique<Impl>();
  for (const std::string& re : regexes) {
    std::string icu_re = TranslateRegexForIcu(re);
    UErrorCode status = U_ZERO_ERROR;
    UParseError perr;
    std::unique_ptr<icu::RegexPattern> p(icu::RegexPattern::compile(
        icu::UnicodeString::fromUTF8(icu_re), 0, perr, status));
    if (U_FAILURE(status)) {
      return absl::InvalidArgumentError(
          absl::StrCat("pre-tokenizer regex '", re, "' does not compile (",
                       u_errorName(status), " at offset ", perr.offset, ")"));
    }
    impl->patterns.push_back(std::move(p));
  }
  return std::unique_ptr<PreTokenizer>(new PreTokenizer(std::move(impl)));
}

std::vector<std::string> PreTokenizer::Split(absl::string_view text) const {
  const std::vector<char32_t> cps = unicode::DecodeUtf8(text);
  // UTF-16 copy the regexes see (non-ASCII whitespace as U+000B), with the
  // code point index of every UTF-16 unit.
  icu::UnicodeString u16;
  std::vector<int32_t> u16_of_cp(cps.size() + 1);
  for (size_t i = 0; i < cps.size(); ++i) {
    u16_of_cp[i] = u16.length();
    char32_t c = cps[i];
    if (c > 0x7F && unicode::IsWhitespace(c)) c = 0x0B;
    u16.append(static_cast<UChar32>(c));
  }
  u16_of_cp[cps.size()] = u16.length();
  std::vector<int32_t> cp_of_u16(u16.length() + 1, 0);
  for (size_t i = 0; i <= cps.size(); ++i) cp_of_u16[u16_of_cp[i]] = i;

  std::vector<size_t> offsets = {cps.size()};  // piece lengths, code points
  for (const auto& pattern : impl_->patterns) {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> m(
        pattern->matcher(icu::UnicodeString(), status));
    std::vector<size_t> next;
    next.reserve(offsets.size());
    size_t start = 0;  // code points
    for (size_t len : offsets) {
      const int32_t b = u16_of_cp[start], e = u16_of_cp[start + len];
      icu::UnicodeString piece(false, u16.getBuffer() + b, e - b);
      m->reset(piece);
      size_t prev = 0;  // code points within the piece
      while (m->find(status) && U_SUCCESS(status)) {
        const size_t ms = cp_of_u16[b + m->start(status)] - start;
        const size_t me = cp_of_u16[b + m->end(status)] - start;
        if (ms > prev) next.push_back(ms - prev);
        if (me > ms) next.push_back(me - ms);
        prev = me;
      }
      if (prev < len) next.push_back(len - prev);
      start += len;
    }
    offsets = std::move(next);
  }
  std::vector<std::string> words;
  words.reserve(offsets.size());
  size_t start = 0;
  for (size_t len : offsets) {
    std::string w;
    for (size_t i = start; i < start + len; ++i)
      unicode::AppendUtf8(cps[i], &w);
    words.push_back(std::move(w));
    start += len;
  }
  return words;
}

}  // namespace qeff::models
