#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kurz::http {

// The threads that run blocking work (database calls, hashing) for the event loops. Bounded:
// when `max_queue` tasks wait, Submit refuses, and the caller answers 503 instead of piling up.
class WorkerPool {
 public:
  WorkerPool(int threads, std::size_t max_queue, const char* thread_name = "kurz-worker");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool is stopping.
  bool Submit(std::function<void()> task);
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop();
  std::size_t queued() const;

 private:
  void Run();

  std::size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kurz::http
