// SPDX-License-Identifier: MIT
#include <QtOffload/entrypoint.h>

#include "appexit_p.h"
#include "qthreadpooljobs_p.h"
#include "separatethread_p.h"
#include "threadpool_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDebug>
#include <QtCore/QThread>
#include <QtCore/QTimer>

namespace QtOffload {

class EntrypointPrivate
{
public:
    EntrypointOptions options;
    std::unique_ptr<QCoreApplication> ownedApplication;
    QCoreApplication *application = nullptr;
    std::unique_ptr<ThreadPool> pool;
    ThreadPool *previousDefault = nullptr;
    bool shutDown = false;
};

Entrypoint::Entrypoint(int &argc, char **argv, EntrypointOptions options)
    : d(std::make_unique<EntrypointPrivate>())
{
    d->options = std::move(options);
    if (!QCoreApplication::instance())
        d->ownedApplication = std::make_unique<QCoreApplication>(argc, argv);
    d->application = QCoreApplication::instance();
    if (QThread::currentThread() != d->application->thread())
        throw std::logic_error("QtOffload::Entrypoint: create it on the application's main thread");
    detail::watchApplication();
    detail::setMainEventLoopClosed(false);

    const int poolSize = d->options.poolSize > 0 ? d->options.poolSize : detail::defaultPoolSize();
    d->pool = std::make_unique<ThreadPool>(poolSize, d->options.poolName);
    d->previousDefault = detail::exchangeDefaultPool(d->pool.get());
}

Entrypoint::~Entrypoint()
{
    shutdown();
    d->pool.reset(); // shut down already: no job runs on it any more
    d->ownedApplication.reset();
}

QCoreApplication *Entrypoint::application() const { return d->application; }

ThreadPool *Entrypoint::pool() const { return d->pool.get(); }

void Entrypoint::callInEventLoop(std::function<void()> call, std::shared_ptr<detail::Completion> completion)
{
    QTimer::singleShot(0, d->application, [call = std::move(call), completion = std::move(completion)] {
        try {
            call();
        } catch (...) {
            completion->fail(std::current_exception());
        }
    });
}

QStringList Entrypoint::shutdown()
{
    if (d->shutDown)
        return {};
    d->shutDown = true;
    const auto timeout = d->options.shutdownTimeout;

    // Nothing queued starts once shutdown began, even on the threads the
    // next steps free: queued jobs are cancelled, new submissions refused,
    // and the running ones are asked to stop (a producer's stream closes).
    // The jobs on QThreadPools and separate threads are asked next.
    (void)d->pool->shutdown(std::chrono::milliseconds::zero());
    detail::stopQThreadPoolJobs();

    // From here this thread only joins: a worker blocked in invokeBlocking()
    // into it would wait for a loop that no longer turns, so fail those calls.
    detail::setMainEventLoopClosed(true);
    detail::stopSeparateThreads();
    QStringList stuck = detail::joinSeparateThreads(timeout);
    for (const QString &name : std::as_const(stuck))
        qWarning("QtOffload::Entrypoint: thread \"%s\" ignored its stop request for %lld ms; not waiting for it",
                 qPrintable(name), static_cast<long long>(timeout.count()));

    ThreadPool *current = detail::exchangeDefaultPool(d->previousDefault);
    if (current != d->pool.get())
        detail::exchangeDefaultPool(current); // someone installed another default meanwhile: keep theirs
    const QStringList busy = d->pool->shutdown(timeout);
    if (!busy.isEmpty()) {
        for (const QString &name : busy)
            qWarning("QtOffload::Entrypoint: pool thread \"%s\" still runs a job after %lld ms; leaving it",
                     qPrintable(name), static_cast<long long>(timeout.count()));
        (void)d->pool.release(); // its running thread still uses it
        stuck += busy;
    }
    if (!d->ownedApplication)
        detail::setMainEventLoopClosed(false); // the application lives on
    return stuck;
}

} // namespace QtOffload
