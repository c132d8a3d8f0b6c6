#pragma once

namespace kurz::app {

// `kurz worker`: the analytics consumer of the click-events stream (see worker.cpp).
int Worker(int argc, char** argv);

}  // namespace kurz::app
