#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>
#include <vector>

namespace kurz::service {

// The users whose links answer 410 because they are suspended, as this instance knows them. With
// a shared cache (cluster mode) an entry read from it says whose link it is, not whether that
// user is suspended: this set answers that, kept current by the invalidation bus (and reloaded
// from the database at start and whenever messages may have been missed). Thread-safe.
class SuspendedOwners {
 public:
  bool Contains(std::int64_t user_id) const {
    std::shared_lock lock(mu_);
    return ids_.contains(user_id);
  }
  void Set(std::int64_t user_id, bool suspended) {
    std::unique_lock lock(mu_);
    if (suspended) {
      ids_.insert(user_id);
    } else {
      ids_.erase(user_id);
    }
  }
  void Replace(const std::vector<std::int64_t>& ids) {
    std::unordered_set<std::int64_t> fresh(ids.begin(), ids.end());
    std::unique_lock lock(mu_);
    ids_.swap(fresh);
  }

 private:
  mutable std::shared_mutex mu_;
  std::unordered_set<std::int64_t> ids_;
};

}  // namespace kurz::service
