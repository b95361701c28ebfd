#include "sim/memory_store.h"

#include <cerrno>

namespace vfio::sim {
namespace {

std::string key(const Store::Path& path) {
  return path.lexically_normal().string();
}

std::string parent_key(const std::string& path) {
  return Store::Path(path).parent_path().string();
}

IoError failure(IoError::Op op, const Store::Path& path, int error, std::string value = {}) {
  return IoError{op, path.string(), error, std::move(value)};
}

}  // namespace

class MemoryStore::Lock final : public StoreLock {
 public:
  Lock(MemoryStore& store, std::string file, unsigned generation)
      : store_(store), file_(std::move(file)), generation_(generation) {}
  ~Lock() override {
    std::lock_guard guard(store_.mutex_);
    if (store_.generation_ != generation_) return;  // freed when its process was
    store_.locked_.erase(file_);
    store_.lock_freed_.notify_all();
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  MemoryStore& store_;
  std::string file_;
  unsigned generation_;
};

MemoryStore::MemoryStore() {
  dirs_.insert("/");
}

MemoryStore::~MemoryStore() = default;

std::optional<IoError> MemoryStore::take_fault(IoError::Op op, const Path& path) {
  const std::string text = path.string();
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op != op || text.find(it->path_part) == std::string::npos) continue;
    if (++it->seen < it->nth) continue;
    const int error = it->error;
    faults_.erase(it);
    return failure(op, path, error);
  }
  return std::nullopt;
}

std::optional<IoError> MemoryStore::begin_change(IoError::Op op, const Path& path) {
  if (frozen_) return failure(op, path, EIO);
  if (auto fault = take_fault(op, path)) return fault;
  return std::nullopt;
}

void MemoryStore::end_change() {
  ++changes_;
  if (crash_at_ && *crash_at_ == changes_) {
    crash_at_.reset();
    frozen_ = true;
    if (on_crash_) on_crash_();
  }
}

bool MemoryStore::has_dir(const Path& dir) const {
  return dirs_.count(key(dir)) > 0;
}

Result<std::string> MemoryStore::read(const Path& file) {
  std::lock_guard guard(mutex_);
  if (auto fault = take_fault(IoError::Op::Read, file)) return *fault;
  auto it = visible_.find(key(file));
  if (it == visible_.end()) {
    return failure(IoError::Op::Read, file, has_dir(file) ? EISDIR : ENOENT);
  }
  return it->second->data;
}

Result<Entry> MemoryStore::stat(const Path& path, Links) {
  std::lock_guard guard(mutex_);
  if (auto fault = take_fault(IoError::Op::Stat, path)) return *fault;
  if (has_dir(path)) return Entry{EntryKind::Directory, 0, 0, 0755};  // root's, as made
  if (auto it = visible_.find(key(path)); it != visible_.end()) {
    return Entry{EntryKind::File, it->second->data.size(), 0, 0644};
  }
  return Entry{};
}

Result<std::vector<std::string>> MemoryStore::list(const Path& dir) {
  std::lock_guard guard(mutex_);
  if (auto fault = take_fault(IoError::Op::List, dir)) return *fault;
  if (!has_dir(dir)) return failure(IoError::Op::List, dir, ENOENT);
  const std::string parent = key(dir);
  std::vector<std::string> names;
  for (const auto& [path, inode] : visible_) {
    if (parent_key(path) == parent) names.push_back(Path(path).filename().string());
  }
  for (const auto& d : dirs_) {
    if (d != parent && parent_key(d) == parent) names.push_back(Path(d).filename().string());
  }
  return names;
}

Result<void> MemoryStore::make_dir(const Path& dir, mode_t) {
  std::lock_guard guard(mutex_);
  if (auto error = begin_change(IoError::Op::MakeDir, dir)) return *error;
  const std::string k = key(dir);
  if (has_dir(dir) || visible_.count(k)) return failure(IoError::Op::MakeDir, dir, EEXIST);
  if (!has_dir(dir.parent_path())) return failure(IoError::Op::MakeDir, dir, ENOENT);
  dirs_.insert(k);
  end_change();
  return {};
}

Result<void> MemoryStore::create(const Path& file, std::string_view bytes, mode_t) {
  std::lock_guard guard(mutex_);
  if (auto error = begin_change(IoError::Op::Create, file)) return *error;
  const std::string k = key(file);
  if (has_dir(file) || visible_.count(k)) return failure(IoError::Op::Create, file, EEXIST);
  if (!has_dir(file.parent_path())) return failure(IoError::Op::Create, file, ENOENT);
  visible_[k] = std::make_shared<Inode>(Inode{std::string(bytes), std::nullopt});
  end_change();
  return {};
}

Result<void> MemoryStore::sync_file(const Path& file) {
  std::lock_guard guard(mutex_);
  if (auto error = begin_change(IoError::Op::Sync, file)) return *error;
  auto it = visible_.find(key(file));
  if (it == visible_.end()) return failure(IoError::Op::Sync, file, ENOENT);
  it->second->synced = it->second->data;
  end_change();
  return {};
}

Result<void> MemoryStore::rename(const Path& from, const Path& to, bool replace) {
  std::lock_guard guard(mutex_);
  if (auto error = begin_change(IoError::Op::Rename, from)) return *error;
  auto it = visible_.find(key(from));
  if (it == visible_.end()) return failure(IoError::Op::Rename, from, ENOENT, to.string());
  if (has_dir(to)) return failure(IoError::Op::Rename, from, EISDIR, to.string());
  if (!has_dir(to.parent_path())) return failure(IoError::Op::Rename, from, ENOENT, to.string());
  if (!replace && visible_.count(key(to))) {
    return failure(IoError::Op::Rename, from, EEXIST, to.string());
  }
  auto inode = it->second;
  visible_.erase(it);
  visible_[key(to)] = std::move(inode);
  end_change();
  return {};
}

Result<void> MemoryStore::remove(const Path& file) {
  std::lock_guard guard(mutex_);
  if (auto error = begin_change(IoError::Op::Remove, file)) return *error;
  if (visible_.erase(key(file)) == 0) return failure(IoError::Op::Remove, file, ENOENT);
  end_change();
  return {};
}

Result<void> MemoryStore::sync_dir(const Path& dir) {
  std::lock_guard guard(mutex_);
  if (auto error = begin_change(IoError::Op::Sync, dir)) return *error;
  if (!has_dir(dir)) return failure(IoError::Op::Sync, dir, ENOENT);
  const std::string parent = key(dir);
  std::erase_if(durable_, [&](const auto& entry) { return parent_key(entry.first) == parent; });
  for (const auto& [path, inode] : visible_) {
    if (parent_key(path) == parent) durable_[path] = inode;
  }
  end_change();
  return {};
}

Result<std::unique_ptr<StoreLock>> MemoryStore::lock(const Path& file, bool wait) {
  std::unique_lock guard(mutex_);
  if (auto error = begin_change(IoError::Op::Open, file)) return *error;
  if (!has_dir(file.parent_path())) return failure(IoError::Op::Open, file, ENOENT);
  const std::string k = key(file);
  if (!visible_.count(k)) visible_[k] = std::make_shared<Inode>();
  if (locked_.count(k)) {
    if (!wait) {
      end_change();
      return std::unique_ptr<StoreLock>();
    }
    lock_freed_.wait(guard, [&] { return locked_.count(k) == 0; });
  }
  locked_.insert(k);
  end_change();
  return std::unique_ptr<StoreLock>(std::make_unique<Lock>(*this, k, generation_));
}

void MemoryStore::put(const Path& file, const std::string& bytes) {
  std::lock_guard guard(mutex_);
  for (Path p = file.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    dirs_.insert(key(p));
  }
  auto inode = std::make_shared<Inode>(Inode{bytes, bytes});
  visible_[key(file)] = inode;
  durable_[key(file)] = inode;
}

void MemoryStore::fail(IoError::Op op, const std::string& path_part, int error, unsigned nth) {
  std::lock_guard guard(mutex_);
  faults_.push_back({op, path_part, error, nth});
}

unsigned MemoryStore::changes() const {
  std::lock_guard guard(mutex_);
  return changes_;
}

void MemoryStore::crash_after_change(unsigned n, std::function<void()> also) {
  std::lock_guard guard(mutex_);
  crash_at_ = n;
  on_crash_ = std::move(also);
}

void MemoryStore::freeze() {
  std::lock_guard guard(mutex_);
  frozen_ = true;
}

bool MemoryStore::frozen() const {
  std::lock_guard guard(mutex_);
  return frozen_;
}

void MemoryStore::thaw() {
  std::lock_guard guard(mutex_);
  frozen_ = false;
  locked_.clear();
  ++generation_;
  lock_freed_.notify_all();
}

void MemoryStore::power_cut() {
  {
    std::lock_guard guard(mutex_);
    visible_.clear();
    for (auto& [path, inode] : durable_) {
      inode->data = inode->synced.value_or("");  // a file never synced may be left empty
      inode->synced = inode->data;
      visible_[path] = inode;
    }
  }
  thaw();
}

}  // namespace vfio::sim
