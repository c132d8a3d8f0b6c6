#pragma once

#include <signal.h>

namespace kurz::app {

// Blocks SIGTERM and SIGINT in this thread (every thread started later inherits the mask, so
// one thread can sigwait for them) and ignores SIGPIPE. Returns the blocked set.
sigset_t BlockStopSignals();

}  // namespace kurz::app
