// main() is a thin shell: all behaviour lives in cli::run so tests can drive it. What only a
// process has is set up here: SIGINT and SIGTERM ask the run to stop after the groups in flight
// (each finishes or rolls back), instead of killing it half-way through a group.
#include <signal.h>

#include <atomic>

#include "cli/run.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void request_stop(int) {
  g_stop.store(true);
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  vfio::cli::Context context;
  context.stop = &g_stop;
  return vfio::cli::run(argc, argv, context);
}
