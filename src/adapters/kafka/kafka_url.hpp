#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::adapters::kafka {

// Where the click-event topic lives, from an --events URL:
//   kafka://host:port[,host:port...]/topic
// Hosts are names, IPv4 addresses or bracketed IPv6 addresses; every one needs an explicit port.
struct KafkaUrl {
  std::string brokers;  // "h1:p1,h2:p2", as librdkafka's bootstrap.servers wants it
  std::string topic;
};

// invalid_argument, naming the problem, for anything but the form above.
core::Result<KafkaUrl> ParseKafkaUrl(std::string_view text);

// True for a name Kafka accepts as a topic: 1..249 of [A-Za-z0-9._-], and not "." or "..".
bool IsValidTopicName(std::string_view topic);

}  // namespace kurz::adapters::kafka
