#pragma once

#include <librdkafka/rdkafka.h>

#include <string>

#include "core/error.hpp"

namespace kurz::adapters::kafka {

namespace detail {
inline auto RefusedSetting(const std::string& name, const std::string& value, const char* why) {
  return core::Fail(core::ErrorCode::kInvalidArgument,
                    "setting '" + name + "'='" + value + "': " + why);
}
}  // namespace detail

// A librdkafka configuration with every (name, value) of `settings` set, or invalid_argument
// naming the first one librdkafka refuses. The caller owns the result (rd_kafka_new takes it).
template <class Settings>
core::Result<rd_kafka_conf_t*> NewConf(const Settings& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return detail::RefusedSetting(name, value, errstr);
    }
  }
  return conf;
}

}  // namespace kurz::adapters::kafka
