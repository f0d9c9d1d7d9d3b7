// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

/*!
  A counting semaphore on std::mutex for the test suites: unlike QSemaphore
  (a futex inside the uninstrumented Qt), ThreadSanitizer sees the
  happens-before it creates.
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

    bool tryAcquire(int n = 1, int timeoutMs = defaultTimeoutMs)
    {
        std::unique_lock lock(m_mutex);
        if (!m_cv.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return m_count >= n; }))
            return false;
        m_count -= n;
        return true;
    }

    //! Blocks until released: for producers, which have no deadline of their own (the test's gives up first).
    void acquire()
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_count >= 1; });
        --m_count;
    }

    //! Drops releases nobody took.
    void forget()
    {
        std::lock_guard lock(m_mutex);
        m_count = 0;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_count = 0;
};
