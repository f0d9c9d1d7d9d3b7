// SPDX-License-Identifier: MIT
#include <support/watchdog.h>

#include <QtCore/QtGlobal>

HardWatchdog::HardWatchdog(std::chrono::milliseconds timeout, std::function<QString()> describe)
    : m_thread([this, timeout, describe = std::move(describe)] {
        std::unique_lock lock(m_mutex);
        if (!m_cv.wait_for(lock, timeout, [this] { return m_disarmed; }))
            qFatal("STRESS WATCHDOG: not done after %lld s: %s", static_cast<long long>(timeout.count() / 1000),
                   qPrintable(describe()));
    })
{
}

HardWatchdog::HardWatchdog(std::chrono::milliseconds timeout, const char *what)
    : HardWatchdog(timeout, [what] { return QString::fromUtf8(what); })
{
}

HardWatchdog::~HardWatchdog()
{
    {
        std::lock_guard lock(m_mutex);
        m_disarmed = true;
    }
    m_cv.notify_all();
    m_thread.join();
}
