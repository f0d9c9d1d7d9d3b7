// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

/*!
  A counting semaphore on std::mutex for the test suites: unlike QSemaphore
  (a futex inside the uninstrumented Qt), ThreadSanitizer sees the
  happens-before it creates. Use it for every hand-over between threads.
*/
class Gate
{
public:
    static constexpr int defaultTimeoutMs = 20000;

    void release(int n = 1)
    {
        {
            std::lock_guard lock(m_mutex);
            m_count += n;
        }
        m_cv.notify_all();
    }

    //! Takes \a n releases, waiting up to \a timeoutMs for them; false (and nothing taken) when they did not come.
    bool tryAcquire(int n = 1, int timeoutMs = defaultTimeoutMs)
    {
        std::unique_lock lock(m_mutex);
        if (!m_cv.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return m_count >= n; }))
            return false;
        m_count -= n;
        return true;
    }

    //! Blocks until released: for producers, which have no deadline of their own (the test's gives up first).
    void acquire(int n = 1)
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_count >= n; });
        m_count -= n;
    }

    //! Releases nobody took yet.
    int available() const
    {
        std::lock_guard lock(m_mutex);
        return m_count;
    }

    //! Drops releases nobody took.
    void forget()
    {
        std::lock_guard lock(m_mutex);
        m_count = 0;
    }

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_count = 0;
};

/*!
  Holds pool threads so a test can arrange the queue behind them: each job()
  releases started when it begins, then runs until open is released. A job
  gives up after its timeout (and returns false), so a broken pool fails a
  test instead of hanging it.
*/
struct JobGate
{
    explicit JobGate(int timeoutMs = 10000)
        : jobTimeoutMs(timeoutMs)
    {
    }

    Gate started;
    Gate open;
    const int jobTimeoutMs;

    auto job()
    {
        return [this] {
            started.release();
            return open.tryAcquire(1, jobTimeoutMs);
        };
    }
    //! For scope guards: whatever a failed check left blocked gets to finish.
    void openAll() { open.release(1000); }
};
