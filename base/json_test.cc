#include "base/json.h"

#include "gtest/gtest.h"

namespace qeff::base {
namespace {

TEST(JsonWriteTest, RoundTripsNamesThatNeedEscaping) {
  const std::string name = "a\"b\\c\nd\te\x01f/\xc3\xa9";
  JsonValue o = JsonValue::Object();
  o.Set(name, JsonValue::String(name));
  o.Set("n", JsonValue::Int(-9007199254740993));
  o.Set("list", JsonValue::Array()
                    .Append(JsonValue::Bool(true))
                    .Append(JsonValue::Null())
                    .Append(JsonValue::Double(0.1)));
  for (bool ascii : {false, true}) {
    for (int indent : {-1, 2}) {
      JsonWriteOptions opt;
      opt.ascii = ascii;
      opt.indent = indent;
      const std::string text = WriteJson(o, opt);
      auto back = ParseJson(text);
      ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
      ASSERT_NE(back->Find(name), nullptr) << text;
      EXPECT_EQ(back->Find(name)->string_value(), name);
      EXPECT_EQ(*back->Find("n")->AsInt64(), -9007199254740993);
      EXPECT_EQ(back->Find("list")->array()[2].number(), 0.1);
      EXPECT_EQ(WriteJson(*back, opt), text);
    }
  }
}

// The bytes Python writes with json.dumps(d, separators=(",", ":"),
// sort_keys=True, ensure_ascii=True), QEfficient's hashing form.
TEST(JsonWriteTest, CompactSortedAsciiIsPythonsForm) {
  JsonValue o = JsonValue::Object();
  o.Set("z", JsonValue::Int(1));
  o.Set("a", JsonValue::String("\xc3\xa9\xf0\x9f\x98\x80\b\f"));
  o.Set("m", JsonValue::Double(1.0));
  o.Set("k", JsonValue::Double(1e-7));
  JsonWriteOptions opt;
  opt.sort_keys = true;
  opt.ascii = true;
  EXPECT_EQ(WriteJson(o, opt),
            "{\"a\":\"\\u00e9\\ud83d\\ude00\\b\\f\",\"k\":1e-07,\"m\":1.0,"
            "\"z\":1}");
}

TEST(JsonWriteTest, SetReplacesInPlace) {
  JsonValue o = JsonValue::Object();
  o.Set("a", JsonValue::Int(1)).Set("b", JsonValue::Int(2));
  o.Set("a", JsonValue::Int(3));
  EXPECT_EQ(WriteJson(o), "{\"a\":3,\"b\":2}");
  EXPECT_EQ(WriteJson(JsonValue::Object()), "{}");
  JsonWriteOptions pretty;
  pretty.indent = 2;
  EXPECT_EQ(WriteJson(o, pretty), "{\n  \"a\": 3,\n  \"b\": 2\n}");
}

TEST(JsonParseTest, RejectsDuplicateKeysAndDeepNesting) {
  EXPECT_FALSE(ParseJson("{\"a\":1,\"a\":2}").ok());
  EXPECT_FALSE(ParseJson(std::string(300, '[') + std::string(300, ']')).ok());
  EXPECT_FALSE(ParseJson("{\"a\":1} x").ok());
}

}  // namespace
}  // namespace qeff::base

namespace qeff::base {
namespace {

// JSON text is UTF-8: a stray byte, a truncated or overlong sequence in a
// string is an error naming the byte's offset (bad-input corpus).
TEST(Json, RejectsInvalidUtf8InStrings) {
  EXPECT_TRUE(ParseJson("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"").ok());
  for (const char* bad : {"\"a\xff\"", "\"\xc3\"", "\"\xc0\xaf\"",
                          "\"\xe2\x82\"", "{\"k\xfe\": 1}"}) {
    auto v = ParseJson(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_NE(v.status().message().find("invalid UTF-8 byte"),
              std::string::npos)
        << v.status();
  }
}

}  // namespace
}  // namespace qeff::base
