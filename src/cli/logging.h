// Where log messages go and how they look, in one place: stderr (coloured on a terminal), the
// systemd journal with each line's priority when stderr is connected to it, or the stream a test
// hands in. Lines a command writes to stderr itself (manifest diagnostics) go through here too,
// so that under systemd they carry a priority like every log message.
#pragma once

#include <sys/types.h>

#include <memory>
#include <ostream>
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

// Journal when this process's file `fd` (stderr, stdout) is the journal stream systemd
// connected, else Plain.
LogStyle detect_style(int fd);

// sd-daemon(3) priority of a log level: debug 7, info 6, warning 4, error 3, critical 2.
int journal_priority(spdlog::level::level_enum level);

// Every line of `text` with "<priority>" in front and a newline at its end.
std::string journal_lines(int priority, std::string_view text);

// An ostream over `target` that starts every line with "<priority>" (sd-daemon(3)), the priority
// set as the lines are written: a report written to the journal keeps each part's weight there (a
// failed group an error, a blocked one a warning) without being logged a second time.
class JournalLineStream : public std::ostream {
 public:
  explicit JournalLineStream(std::ostream& target);
  void set_priority(int priority);

 private:
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(std::streambuf* out) : out_(out) {}
    int priority = 6;  // LOG_INFO, journald's own default

   protected:
    int overflow(int c) override;
    int sync() override;

   private:
    std::streambuf* out_;
    bool line_start_ = true;
  };
  Buffer buffer_;
};

// verbosity: -1 quiet (errors only), 0 normal (warnings and up), 1 info, 2+ debug.
// err: where to write (none: the process's stderr). color: the level coloured (the process's
// stderr only). The logger becomes spdlog's default.
std::shared_ptr<spdlog::logger> make_logger(int verbosity, std::ostream* err, LogStyle style,
                                            bool color = false);

// One line a command reports as an error on its own, such as "FILE:LINE:COLUMN: message": as it
// is, or with the error priority in the journal.
void write_error_line(std::ostream& err, LogStyle style, std::string_view line);

}  // namespace vfio::cli
