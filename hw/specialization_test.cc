#include "hw/specialization.h"

#include "gtest/gtest.h"

namespace qeff::hw {
namespace {

TEST(Specialization, JsonRoundTrip) {
  auto specs = PrefillDecodeSpecializations(1, 32, 128);
  std::string json = SpecializationsToJson(specs);
  EXPECT_EQ(
      json,
      "{\"specializations\":[{\"name\":\"Prefill\",\"symbols\":{\"batch_size\":"
      "\"1\",\"ctx_len\":\"128\",\"seq_len\":\"32\"}},{\"name\":\"Decode\","
      "\"symbols\":{\"batch_size\":\"1\",\"ctx_len\":\"128\",\"seq_len\":\"1\"}"
      "}]}\n");
  auto back = ParseSpecializationsJson(json, "s.json");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].name, "Decode");
  EXPECT_EQ((*back)[1].symbols.at("seq_len"), 1);
}

TEST(Specialization, BadInputNamesTheProblem) {
  auto r = ParseSpecializationsJson(
      "{\"specializations\":[{\"name\":\"P\",\"symbols\":{\"seq_len\":\"x\"}}]"
      "}",
      "s.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("s.json"), std::string::npos);
  EXPECT_NE(r.status().message().find("seq_len"), std::string::npos);
  EXPECT_FALSE(
      ParseSpecializationsJson("{\"specializations\":[", "s.json").ok());
  EXPECT_FALSE(
      ParseSpecializationsJson("{\"specializations\":[]}", "s.json").ok());
  EXPECT_FALSE(ParseSpecializationsJson(
                   "{\"specializations\":[{\"name\":\"P\"}]}", "s.json")
                   .ok());
}

TEST(Specialization, DuplicateNamesAndUnknownFieldsAreErrors) {
  auto dup = ParseSpecializationsJson(
      "{\"specializations\":[{\"name\":\"P\",\"symbols\":{\"seq_len\":1}},"
      "{\"name\":\"P\",\"symbols\":{\"seq_len\":2}}]}",
      "s.json");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate specialization name 'P'"),
            std::string::npos)
      << dup.status();
  EXPECT_FALSE(
      ParseSpecializationsJson(
          "{\"specializations\":[{\"name\":\"P\",\"symbols\":{\"s\":1}}],"
          "\"x\":1}",
          "s.json")
          .ok());
}

TEST(Specialization, NamesThatNeedEscapingRoundTrip) {
  std::vector<Specialization> specs = {
      {"a \"quoted\"\\name", {{"seq_len", 4}}}};
  auto back = ParseSpecializationsJson(SpecializationsToJson(specs), "s.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)[0].name, specs[0].name);
}

}  // namespace
}  // namespace qeff::hw
