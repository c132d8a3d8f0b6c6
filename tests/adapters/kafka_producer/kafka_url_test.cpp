#include "adapters/kafka/kafka_url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kurz::adapters::kafka {
namespace {

TEST(KafkaUrl, AcceptsBrokerListsAndLegalTopics) {
  const struct {
    std::string url;
    std::string brokers;
    std::string topic;
  } cases[] = {
      {"kafka://localhost:9092/click-events", "localhost:9092", "click-events"},
      {"kafka://b1:9092,b2:9093,10.0.0.3:1/clicks", "b1:9092,b2:9093,10.0.0.3:1", "clicks"},
      {"kafka://[::1]:9092/t", "[::1]:9092", "t"},
      {"kafka://k-1.internal_x:65535/A.b_c-9", "k-1.internal_x:65535", "A.b_c-9"},
      {"kafka://h:1/" + std::string(249, 'x'), "h:1", std::string(249, 'x')},
  };
  for (const auto& c : cases) {
    auto url = ParseKafkaUrl(c.url);
    ASSERT_TRUE(url) << c.url << ": " << url.error().detail;
    EXPECT_EQ(url->brokers, c.brokers) << c.url;
    EXPECT_EQ(url->topic, c.topic) << c.url;
  }
}

TEST(KafkaUrl, RejectsEverythingElseWithAReason) {
  const struct {
    std::string url;
    std::string mentions;
  } cases[] = {
      {"", "expected kafka://"},
      {"http://h:9092/t", "expected kafka://"},
      {"KAFKA://h:9092/t", "expected kafka://"},
      {"kafka://h:9092", "missing '/topic'"},
      {"kafka://h:9092/", "missing topic"},
      {"kafka:///t", "at least one host:port"},
      {"kafka://h/t", "needs ':port'"},
      {"kafka://h:/t", "invalid port"},
      {"kafka://h:0/t", "invalid port"},
      {"kafka://h:65536/t", "invalid port"},
      {"kafka://h:-1/t", "invalid port"},
      {"kafka://h:9x/t", "invalid port"},
      {"kafka://:9092/t", "missing host"},
      {"kafka://h:1,,g:2/t", "empty broker"},
      {"kafka://h:1,/t", "empty broker"},
      {"kafka://h:1,g/t", "needs ':port'"},
      {"kafka://h h:1/t", "invalid host"},
      {"kafka://[::1/t", "unclosed"},
      {"kafka://[::1]/t", "needs ':port'"},
      {"kafka://h:1/a/b", "may only contain"},
      {"kafka://h:1/a b", "may only contain"},
      {"kafka://h:1/caf\xc3\xa9", "may only contain"},
      {"kafka://h:1/.", "may only contain"},
      {"kafka://h:1/..", "may only contain"},
      {"kafka://h:1/" + std::string(250, 'x'), "longer than 249"},
      {"kafka://h:1/t?acks=1", "not supported"},
      {"kafka://user:pw@h:1/t", "not supported"},
  };
  for (const auto& c : cases) {
    auto url = ParseKafkaUrl(c.url);
    ASSERT_FALSE(url) << c.url;
    EXPECT_EQ(url.error().code, core::ErrorCode::kInvalidArgument) << c.url;
    EXPECT_NE(url.error().detail.find(c.mentions), std::string::npos)
        << c.url << " -> " << url.error().detail;
  }
}

TEST(KafkaUrl, TopicNameRules) {
  EXPECT_TRUE(IsValidTopicName("click-events"));
  EXPECT_TRUE(IsValidTopicName("..."));
  EXPECT_FALSE(IsValidTopicName(""));
  EXPECT_FALSE(IsValidTopicName("."));
  EXPECT_FALSE(IsValidTopicName("a:b"));
  EXPECT_FALSE(IsValidTopicName(std::string(250, 'a')));
}

}  // namespace
}  // namespace kurz::adapters::kafka
