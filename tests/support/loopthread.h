// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QEventLoop>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <functional>
#include <memory>

/*!
  A QThread, not started, that will run an event loop, call \a inLoop in the
  loop's first event, and end once it returns. For code that must run inside
  a thread's own event loop (a lane, a job's progress relay) without being
  posted there from outside: ThreadSanitizer cannot follow Qt's posted events,
  and what the thread reads was written before QThread::start().
*/
inline std::unique_ptr<QThread> threadRunningInItsLoop(std::function<void()> inLoop)
{
    return std::unique_ptr<QThread>(QThread::create([inLoop = std::move(inLoop)] {
        QEventLoop loop;
        QTimer::singleShot(0, &loop, [&] {
            inLoop();
            loop.quit();
        });
        loop.exec();
    }));
}
