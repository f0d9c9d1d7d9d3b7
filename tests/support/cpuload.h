// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QThread>

#include <atomic>
#include <thread>
#include <vector>

/*!
  Busy threads beside a test, as on a user's loaded machine: each spins
  until the load is destroyed. By default one per core, so every core is
  taken and the kernel must time-slice the code under test with them.
*/
class CpuLoad
{
public:
    explicit CpuLoad(int threads = QThread::idealThreadCount())
    {
        for (int i = 0; i < threads; ++i) {
            m_threads.emplace_back([this] {
                unsigned spin = 0;
                while (!m_stop.load(std::memory_order_relaxed))
                    spin = spin * 1664525u + 1013904223u;
                m_sink.fetch_add(spin, std::memory_order_relaxed);
            });
        }
    }
    ~CpuLoad()
    {
        m_stop.store(true);
        for (std::thread &thread : m_threads)
            thread.join();
    }
    CpuLoad(const CpuLoad &) = delete;
    CpuLoad &operator=(const CpuLoad &) = delete;

private:
    std::atomic<bool> m_stop { false };
    std::atomic<unsigned> m_sink { 0 };
    std::vector<std::thread> m_threads;
};
