// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/whenfinished.h>

#include <QtCore/QEventLoop>
#include <QtCore/QFuture>
#include <QtCore/QTimer>

#include <chrono>
#include <functional>
#include <utility>

namespace bench {

//! Sequential event thread -> worker -> context round trips, inside a running loop:
//! \a attach(context, onDone) submits one job and arranges for onDone on the context's thread.
template<typename Attach> double roundTrip(int count, Attach attach)
{
    QEventLoop loop;
    QObject context;
    int left = count;
    std::chrono::steady_clock::time_point start;
    std::function<void()> next = [&] {
        attach(&context, [&] {
            if (--left == 0)
                loop.quit();
            else
                next();
        });
    };
    QTimer::singleShot(0, &loop, [&] {
        start = std::chrono::steady_clock::now();
        next();
    });
    loop.exec();
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / count;
}

//! Attaches through QFuture::then(context).
template<typename Submit> auto viaThen(Submit submit)
{
    return [submit](QObject *context, std::function<void()> onDone) {
        submit().then(context, [onDone = std::move(onDone)](int) { onDone(); });
    };
}

//! Attaches through whenFinished(), a QFutureWatcher underneath.
template<typename Submit> auto viaWhenFinished(Submit submit)
{
    return [submit](QObject *context, std::function<void()> onDone) {
        QtOffload::whenFinished(submit(), context, [onDone = std::move(onDone)](int) { onDone(); });
    };
}

} // namespace bench
