#include "cli/logging.h"
#include "util/text_fields.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace vfio::cli {
namespace {

// Writes each formatted message as journal lines: the priority of its level on every line, so a
// message of several lines keeps its priority throughout.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalSink(std::ostream& out) : out_(out) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    out_ << journal_lines(journal_priority(msg.level),
                          std::string_view(formatted.data(), formatted.size()));
  }
  void flush_() override { out_.flush(); }

 private:
  std::ostream& out_;
};

}  // namespace

bool journal_stream_matches(const char* journal_stream, dev_t device, ino_t inode) {
  if (!journal_stream) return false;
  const std::string_view value(journal_stream);
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) return false;
  const auto dev = parse_whole_number<unsigned long long>(value.substr(0, colon));
  const auto ino = parse_whole_number<unsigned long long>(value.substr(colon + 1));
  return dev && ino && *dev == device && *ino == inode;
}

LogStyle detect_style(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return LogStyle::Plain;
  return journal_stream_matches(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino)
             ? LogStyle::Journal
             : LogStyle::Plain;
}

int journal_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;  // LOG_DEBUG
    case spdlog::level::info:
      return 6;  // LOG_INFO
    case spdlog::level::warn:
      return 4;  // LOG_WARNING
    case spdlog::level::err:
      return 3;  // LOG_ERR
    case spdlog::level::critical:
    case spdlog::level::off:
    case spdlog::level::n_levels:
      break;
  }
  return 2;  // LOG_CRIT
}

std::string journal_lines(int priority, std::string_view text) {
  // fmt rather than "<" + std::to_string(): g++ 12 at -O3 raises a false -Wrestrict on that.
  const std::string prefix = fmt::format("<{}>", priority);
  std::string out;
  for_each_line(text, [&](std::string_view line) {
    out += prefix;
    out += line;
    out += '\n';
  });
  return out;
}

JournalLineStream::JournalLineStream(std::ostream& target)
    : std::ostream(nullptr), buffer_(target.rdbuf()) {
  rdbuf(&buffer_);
}

void JournalLineStream::set_priority(int priority) {
  flush();
  buffer_.priority = priority;
}

int JournalLineStream::Buffer::overflow(int c) {
  if (c == traits_type::eof()) return traits_type::not_eof(c);
  if (line_start_) {
    const std::string prefix = fmt::format("<{}>", priority);
    if (out_->sputn(prefix.data(), static_cast<std::streamsize>(prefix.size())) !=
        static_cast<std::streamsize>(prefix.size())) {
      return traits_type::eof();
    }
  }
  line_start_ = c == '\n';
  return out_->sputc(static_cast<char>(c));
}

int JournalLineStream::Buffer::sync() {
  return out_->pubsync();
}

std::shared_ptr<spdlog::logger> make_logger(int verbosity, std::ostream* err, LogStyle style,
                                            bool color) {
  spdlog::sink_ptr sink;
  if (style == LogStyle::Journal) {
    sink = std::make_shared<JournalSink>(err ? *err : std::cerr);
    // The priority says how serious it is, and journald adds the time and the unit.
    sink->set_pattern("%v");
  } else {
    if (err) {
      sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*err);
    } else {
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
          color ? spdlog::color_mode::always : spdlog::color_mode::never);
    }
    // A person reads these next to the command's output: no timestamps, just the level.
    sink->set_pattern("%^%l%$: %v");
  }
  auto logger = std::make_shared<spdlog::logger>("vfio-reconcile", sink);
  logger->set_level(verbosity < 0    ? spdlog::level::err
                    : verbosity == 0 ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::debug);
  spdlog::set_default_logger(logger);
  return logger;
}

void write_error_line(std::ostream& err, LogStyle style, std::string_view line) {
  if (style == LogStyle::Journal) {
    err << journal_lines(journal_priority(spdlog::level::err), line);
  } else {
    err << line << '\n';
  }
}

}  // namespace vfio::cli
