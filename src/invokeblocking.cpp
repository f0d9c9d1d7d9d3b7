// SPDX-License-Identifier: MIT
#include <QtOffload/invokeblocking.h>

#include "appexit_p.h"
#include "tsan_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>

#include <mutex>

namespace QtOffload::detail {

namespace {

class CallEvent final : public QEvent
{
public:
    explicit CallEvent(JobPtr job)
        : QEvent(type())
        , m_job(std::move(job))
    {
    }
    ~CallEvent() override
    {
        QTOFFLOAD_HAPPENS_AFTER(this); // may be dropped unrun in the target thread
        if (m_job)
            m_job->cancel(); // dropped unrun: the caller must not wait forever
    }
    static Type type()
    {
        static const Type registered = Type(QEvent::registerEventType());
        return registered;
    }
    JobPtr takeJob() { return std::move(m_job); }

private:
    JobPtr m_job;
};

/*!
  Lives in the target thread and runs the posted jobs there. Our own event
  (not a queued functor) so the whole payload is written before the
  hand-over that ThreadSanitizer is told about.
*/
class EventLoopInvoker final : public QObject
{
public:
    explicit EventLoopInvoker(bool disposable)
        : m_disposable(disposable)
    {
    }

    bool event(QEvent *event) override
    {
        if (event->type() != CallEvent::type())
            return QObject::event(event);
        QTOFFLOAD_HAPPENS_AFTER(event);
        if (JobPtr job = static_cast<CallEvent *>(event)->takeJob())
            job->run();
        if (m_disposable)
            deleteLater();
        return true;
    }

private:
    const bool m_disposable;
};

bool isMainThread(const QThread *thread)
{
    const QCoreApplication *app = QCoreApplication::instance();
    return app && thread == app->thread();
}

void checkMainLoop(const QThread *thread)
{
    if (isMainThread(thread) && mainEventLoopClosed() && QThread::currentThread() != thread)
        throw ShutdownError(
            "QtOffload::invokeBlocking: the main event loop has shut down (the application is quitting)");
}

// One long-lived invoker for the main thread, the common target; other
// threads get one per call, which deletes itself after running.
std::mutex s_mainInvokerMutex;
QPointer<EventLoopInvoker> s_mainInvoker;

// Only its address is used: the token for a ThreadSanitizer annotation.
const char s_finishedConnections = 0;

QObject *invokerFor(QThread *thread)
{
    if (isMainThread(thread)) {
        std::lock_guard lock(s_mainInvokerMutex);
        if (!s_mainInvoker) {
            auto *invoker = new EventLoopInvoker(false);
            invoker->moveToThread(thread);
            s_mainInvoker = invoker;
        }
        return s_mainInvoker.data();
    }
    auto *invoker = new EventLoopInvoker(true);
    // Fine even if the thread has only just started and has no dispatcher
    // yet: the event waits in its queue.
    invoker->moveToThread(thread);
    // A thread that ends without running the call would keep the invoker and
    // its queued event forever; deleting the invoker drops the event, which
    // fails the caller's wait at once.
    // Qt publishes the connection with synchronisation ThreadSanitizer cannot
    // see (uninstrumented): announce the hand-over of the functor ourselves.
    QObject::connect(
        thread, &QThread::finished, invoker,
        [invoker] {
            QTOFFLOAD_HAPPENS_AFTER(&s_finishedConnections);
            delete invoker;
        },
        Qt::DirectConnection);
    QTOFFLOAD_HAPPENS_BEFORE(&s_finishedConnections);
    return invoker;
}

} // namespace

void postToEventLoop(QThread *thread, JobPtr job)
{
    QObject *receiver = invokerFor(thread);
    auto *event = new CallEvent(std::move(job));
    QTOFFLOAD_HAPPENS_BEFORE(event);
    QCoreApplication::postEvent(receiver, event);
}

InvokeTarget invokeTargetFor(QObject *context)
{
    if (!context)
        throw std::invalid_argument("QtOffload::invokeBlocking: the context object is null");
    QThread *thread = context->thread();
    if (!thread || thread->isFinished())
        throw ShutdownError("QtOffload::invokeBlocking: the context object's thread has finished");
    checkMainLoop(thread);
    return { thread, context, isMainThread(thread) };
}

InvokeTarget invokeTargetFor(QThread *thread)
{
    if (!thread)
        throw std::invalid_argument("QtOffload::invokeBlocking: the thread is null");
    if (thread->isFinished())
        throw ShutdownError("QtOffload::invokeBlocking: the target thread has finished");
    if (QThread::currentThread() != thread && !thread->isRunning())
        throw ShutdownError("QtOffload::invokeBlocking: the target thread has not been started");
    checkMainLoop(thread);
    return { thread, nullptr, isMainThread(thread) };
}

InvokeTarget mainThreadInvokeTarget()
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app)
        throw ShutdownError("QtOffload::invokeBlocking: there is no QCoreApplication, so no main event loop");
    watchApplication(); // so that the application's end fails the calls into its loop
    return invokeTargetFor(app->thread());
}

} // namespace QtOffload::detail
