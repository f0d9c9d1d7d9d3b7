// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QString>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

/*!
  Aborts the process with a report unless destroyed (disarmed) within its
  timeout. It waits on a thread of its own, outside Qt's event loop: a stuck
  main thread cannot run a QTimer-based watchdog, and a destructor stuck in
  the library (a pool's waits for its jobs) could not be failed otherwise.
*/
class HardWatchdog
{
public:
    //! \a describe says what is still pending; it is called on the watchdog's thread when the time is up.
    HardWatchdog(std::chrono::milliseconds timeout, std::function<QString()> describe);
    HardWatchdog(std::chrono::milliseconds timeout, const char *what);
    ~HardWatchdog();

    HardWatchdog(const HardWatchdog &) = delete;
    HardWatchdog &operator=(const HardWatchdog &) = delete;

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_disarmed = false;
    std::thread m_thread; // last: it starts once the members it waits on exist
};
