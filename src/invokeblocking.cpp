// SPDX-License-Identifier: MIT
#include <QtOffload/invokeblocking.h>

#include "lifecycle_p.h"

#include <QtCore/QCoreApplication>

namespace QtOffload::detail {

namespace {
bool isMainThread(const QThread *thread)
{
    const QCoreApplication *app = QCoreApplication::instance();
    return app && thread == app->thread();
}

void checkMainLoop(const QThread *thread)
{
    if (isMainThread(thread) && mainEventLoopClosed() && QThread::currentThread() != thread)
        throw ShutdownError("QtOffload::invokeBlocking: the main event loop has shut down (the application is quitting)");
}
} // namespace

InvokeTarget invokeTargetFor(QObject *context)
{
    if (!context)
        throw std::invalid_argument("QtOffload::invokeBlocking: the context object is null");
    QThread *thread = context->thread();
    if (!thread || thread->isFinished())
        throw ShutdownError("QtOffload::invokeBlocking: the context object's thread has finished");
    checkMainLoop(thread);
    return {context, thread, isMainThread(thread)};
}

InvokeTarget invokeTargetFor(QThread *thread)
{
    if (!thread)
        throw std::invalid_argument("QtOffload::invokeBlocking: the thread is null");
    if (thread->isFinished())
        throw ShutdownError("QtOffload::invokeBlocking: the target thread has finished");
    if (QThread::currentThread() == thread)
        return {thread, thread, isMainThread(thread)}; // runs inline; no receiver needed
    if (!thread->isRunning())
        throw ShutdownError("QtOffload::invokeBlocking: the target thread has not been started");
    checkMainLoop(thread);
    if (isMainThread(thread))
        return {QCoreApplication::instance(), thread, true};
    // A receiver living in the thread: its posted call waits in the thread's
    // queue even if the thread has only just started and has no dispatcher yet.
    auto *receiver = new QObject;
    receiver->moveToThread(thread);
    return {receiver, thread, false, true};
}

InvokeTarget mainThreadInvokeTarget()
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app)
        throw ShutdownError("QtOffload::invokeBlocking: there is no QCoreApplication, so no main event loop");
    ensureApplicationHooks();
    return invokeTargetFor(app);
}

} // namespace QtOffload::detail
