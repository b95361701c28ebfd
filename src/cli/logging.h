// Where log messages go and how they look, in one place: stderr (coloured on a terminal), the
// systemd journal with each line's priority when stderr is connected to it, or the stream a test
// hands in. Lines a command writes to stderr itself (manifest diagnostics) go through here too,
// so that under systemd they carry a priority like every log message.
#pragma once

#include <sys/types.h>

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/logger.h>

namespace vfio::cli {

enum class LogStyle {
  Plain,    // "warning: message" (the level coloured on a terminal, as --color says)
  Journal,  // "<4>message": sd-daemon(3) priority prefixes, which journald turns into priorities
};

// Whether $JOURNAL_STREAM ("DEVICE:INODE", as systemd.exec(5) sets it for a service whose output
// goes to the journal) names the file `device`/`inode`, i.e. stderr's. A missing or malformed
// value names nothing.
bool journal_stream_matches(const char* journal_stream, dev_t device, ino_t inode);

// Journal when this process's stderr is the journal stream systemd connected, else Plain.
LogStyle detect_stderr_style();

// sd-daemon(3) priority of a log level: debug 7, info 6, warning 4, error 3, critical 2.
int journal_priority(spdlog::level::level_enum level);

// Every line of `text` with "<priority>" in front and a newline at its end.
std::string journal_lines(int priority, std::string_view text);

// verbosity: -1 quiet (errors only), 0 normal (warnings and up), 1 info, 2+ debug.
// err: where to write (none: the process's stderr). color: the level coloured (the process's
// stderr only). The logger becomes spdlog's default.
std::shared_ptr<spdlog::logger> make_logger(int verbosity, std::ostream* err, LogStyle style,
                                            bool color = false);

// One line a command reports as an error on its own, such as "FILE:LINE:COLUMN: message": as it
// is, or with the error priority in the journal.
void write_error_line(std::ostream& err, LogStyle style, std::string_view line);

}  // namespace vfio::cli
