// SPDX-License-Identifier: MIT
#include "appexit_p.h"

#include <QtCore/QCoreApplication>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace QtOffload::detail {

namespace {

std::atomic<bool> s_mainLoopClosed { false };

struct ApplicationExit
{
    std::mutex mutex;
    std::vector<ExitStep> steps;
    QCoreApplication *watched = nullptr;
};

ApplicationExit &applicationExit()
{
    // Never destroyed: a static destructor (the process-wide pool's) may still register a step.
    static ApplicationExit *const instance = new ApplicationExit;
    return *instance;
}

void onApplicationDestroyed()
{
    setMainEventLoopClosed(true);
    std::vector<ExitStep> steps;
    {
        std::lock_guard lock(applicationExit().mutex);
        steps = applicationExit().steps;
        applicationExit().watched = nullptr;
    }
    for (const ExitStep step : steps)
        step();
}

} // namespace

void watchApplication()
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app)
        return;
    {
        std::lock_guard lock(applicationExit().mutex);
        if (applicationExit().watched == app)
            return;
        applicationExit().watched = app;
    }
    setMainEventLoopClosed(false);
    qAddPostRoutine(onApplicationDestroyed);
}

void atApplicationExit(ExitStep step)
{
    {
        std::lock_guard lock(applicationExit().mutex);
        auto &steps = applicationExit().steps;
        if (std::find(steps.begin(), steps.end(), step) == steps.end())
            steps.push_back(step);
    }
    watchApplication();
}

bool mainEventLoopClosed() noexcept { return s_mainLoopClosed.load(std::memory_order_acquire); }

void setMainEventLoopClosed(bool closed) noexcept { s_mainLoopClosed.store(closed, std::memory_order_release); }

} // namespace QtOffload::detail
