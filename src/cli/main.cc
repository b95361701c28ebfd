// main() is a thin shell: all behaviour lives in cli::run so tests can drive it.
#include "cli/run.h"

int main(int argc, char** argv) {
  return vfio::cli::run(argc, argv);
}
