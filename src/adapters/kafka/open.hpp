#pragma once

#include <memory>
#include <string_view>

#include "adapters/common/open.hpp"

namespace kurz::adapters::kafka {

// kafka://host:port[,host:port...]/topic as the stream `kurz serve` publishes click events to;
// events the cluster cannot take wait in a spool under options.spool_dir. invalid_argument for
// a bad URL, unavailable for an unusable spool directory.
core::Result<std::unique_ptr<ports::EventSink>> OpenEventSink(std::string_view url,
                                                              const EventOptions& options);

// The same URL as the stream `kurz worker` consumes, as a member of options.group.
core::Result<std::unique_ptr<ports::ClickSource>> OpenClickSource(std::string_view url,
                                                                  const EventOptions& options);

// Checks the URL only (kurz serve refuses a bad one before it opens anything).
core::Result<void> CheckUrl(std::string_view url);

}  // namespace kurz::adapters::kafka
